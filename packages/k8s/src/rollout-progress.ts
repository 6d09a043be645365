/**
 * Whether a rollout is done, by the rules and in the words of `kubectl rollout status`
 * (kubectl/pkg/polymorphichelpers/rollout_status.go), so an answer reads as kubectl's would.
 */
import { ToolError } from '@infra-mcp/core';
import type { Obj } from './client.js';

export interface Progress {
  done: boolean;
  message: string;
}

export function rolloutProgress(o: Obj): Progress {
  const s = o.status ?? {};
  const name = o.metadata?.name;
  const generation = o.metadata?.generation ?? 0;
  const observed = s.observedGeneration ?? 0;
  const replicas = o.spec?.replicas ?? 1; // the API server's default
  switch (o.kind) {
    case 'Deployment': {
      if (generation > observed) return waiting('Waiting for deployment spec update to be observed...');
      const progressing = (s.conditions ?? []).find((c: Obj) => c.type === 'Progressing');
      if (progressing?.reason === 'ProgressDeadlineExceeded')
        throw new ToolError(
          'rollout_failed',
          `deployment "${name}" exceeded its progress deadline`,
          'k8s_describe shows the failing pods and events; k8s_rollout_undo rolls back',
        );
      const updated = s.updatedReplicas ?? 0;
      if (updated < replicas)
        return waiting(
          `Waiting for deployment "${name}" rollout to finish: ${updated} out of ${replicas} new replicas have been updated...`,
        );
      if ((s.replicas ?? 0) > updated)
        return waiting(
          `Waiting for deployment "${name}" rollout to finish: ${(s.replicas ?? 0) - updated} old replicas are pending termination...`,
        );
      if ((s.availableReplicas ?? 0) < updated)
        return waiting(
          `Waiting for deployment "${name}" rollout to finish: ${s.availableReplicas ?? 0} of ${updated} updated replicas are available...`,
        );
      return { done: true, message: `deployment "${name}" successfully rolled out` };
    }
    case 'StatefulSet': {
      const strategy = o.spec?.updateStrategy ?? {};
      rollingOnly(strategy);
      if (observed === 0 || generation > observed)
        return waiting('Waiting for statefulset spec update to be observed...');
      if ((s.readyReplicas ?? 0) < replicas)
        return waiting(`Waiting for ${replicas - (s.readyReplicas ?? 0)} pods to be ready...`);
      if (strategy.rollingUpdate) {
        const partition = strategy.rollingUpdate.partition;
        if (partition !== undefined && (s.updatedReplicas ?? 0) < replicas - partition)
          return waiting(
            `Waiting for partitioned roll out to finish: ${s.updatedReplicas ?? 0} out of ${replicas - partition} new pods have been updated...`,
          );
        return {
          done: true,
          message: `partitioned roll out complete: ${s.updatedReplicas ?? 0} new pods have been updated...`,
        };
      }
      if (s.updateRevision !== s.currentRevision)
        return waiting(
          `waiting for statefulset rolling update to complete ${s.updatedReplicas ?? 0} pods at revision ${s.updateRevision ?? ''}...`,
        );
      return {
        done: true,
        message: `statefulset rolling update complete ${s.currentReplicas ?? 0} pods at revision ${s.currentRevision ?? ''}...`,
      };
    }
    case 'DaemonSet': {
      rollingOnly(o.spec?.updateStrategy ?? {});
      if (generation > observed) return waiting('Waiting for daemon set spec update to be observed...');
      const desired = s.desiredNumberScheduled ?? 0;
      const updated = s.updatedNumberScheduled ?? 0;
      if (updated < desired)
        return waiting(
          `Waiting for daemon set "${name}" rollout to finish: ${updated} out of ${desired} new pods have been updated...`,
        );
      if ((s.numberAvailable ?? 0) < desired)
        return waiting(
          `Waiting for daemon set "${name}" rollout to finish: ${s.numberAvailable ?? 0} of ${desired} updated pods are available...`,
        );
      return { done: true, message: `daemon set "${name}" successfully rolled out` };
    }
  }
  throw new ToolError(
    'not_supported',
    `no rollout status for kind ${o.kind}`,
    'use a Deployment, StatefulSet or DaemonSet',
  );
}

const waiting = (message: string): Progress => ({ done: false, message });

function rollingOnly(strategy: Obj) {
  // RollingUpdate is the API server's default
  if ((strategy.type ?? 'RollingUpdate') !== 'RollingUpdate')
    throw new ToolError(
      'not_supported',
      'rollout status is only available for RollingUpdate strategy type',
      `this workload updates ${strategy.type}: its pods change only when deleted; k8s_describe shows them`,
    );
}
