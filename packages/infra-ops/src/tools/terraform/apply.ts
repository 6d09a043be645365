/**
 * terraform_apply (write) and terraform_apply_destructive (destructive): the dry run is
 * `terraform plan -out=<file>`, held by the server as the plan's handle; the approved call applies
 * exactly that file (no second plan), after checking the file is unchanged and the state has not
 * moved. A plan that deletes or replaces anything goes only through terraform_apply_destructive, so
 * policy (readOnly, deny lists, destructiveHint) sees destruction as such.
 */
import { rm } from 'node:fs/promises';
import { ToolError } from '@infra-mcp/core';
import { z } from 'zod';
import { runDetails } from '../../runner.js';
import { dirArg, terraform, tool } from '../../terraform/cli.js';
import { makePlan, type PlanFile, planArgs, verifyPlan } from '../../terraform/planfile.js';
import { countsLine, resourceLine } from '../../terraform/summary.js';
import { shown, summarySchema, summaryText } from './plan.js';

const input = z.object({ dir: dirArg, ...planArgs });
const output = z.object({
  applied: z.string().describe('What was applied: the counts line'),
  exitCode: z.number(),
  durationMs: z.number(),
  stdoutTail: z.string().describe('The end of terraform apply output (masked)'),
});

function applyTool(destructive: boolean) {
  return tool({
    name: destructive ? 'apply_destructive' : 'apply',
    title: destructive ? 'Terraform apply (may delete)' : 'Terraform apply',
    description: destructive
      ? 'Like terraform_apply, for plans that delete or replace resources (or destroy: true).'
      : 'Preview (plan -out) then, with the approval, apply exactly that plan. Plans that delete or replace are refused: use terraform_apply_destructive.',
    input,
    output,
    preview: summarySchema,
    effect: destructive ? 'destructive' : 'write',
    timeoutMs: 600_000,
    plan: async (args, ctx) => {
      const p = await makePlan(ctx, args);
      if (!destructive && p.summary.destructive) {
        await rm(p.file, { force: true });
        const gone = p.summary.resources.filter((r) => r.action === 'delete' || r.action === 'replace');
        throw new ToolError(
          'destructive_plan',
          `this plan deletes or replaces ${gone.length} resources (${gone
            .slice(0, 5)
            .map((r) => r.address)
            .join(', ')}${gone.length > 5 ? ', ...' : ''})`,
          'review it with terraform_plan and use terraform_apply_destructive to apply it',
          { delete: gone.map((r) => r.address) },
        );
      }
      const s = shown(p.summary);
      return {
        // hashed: what the approval is bound to (the plan file itself differs run to run)
        change: {
          dir: args.dir,
          varFiles: args.varFiles,
          targets: args.targets,
          destroy: args.destroy,
          state: p.state,
          resources: p.summary.resources.map((r) => [r.address, r.action, r.movedFrom ?? null]),
          outputs: p.summary.outputs,
        },
        preview: s,
        summary: `terraform apply in ${args.dir}: ${countsLine(p.summary)}`,
        text: summaryText(p.summary),
        items: s.resources.map((r) => ({ text: resourceLine(r), data: r })),
        handle: p,
      };
    },
    verify: async (_args, ctx, plan) => verifyPlan(ctx, plan.handle as PlanFile),
    discard: async (handle: PlanFile) => {
      await rm(handle.file, { force: true });
    },
    run: async (_args, ctx, plan) => {
      const held = plan!.handle as PlanFile;
      const r = await terraform(ctx, held.cwd, [
        'apply',
        '-input=false',
        '-no-color',
        `-lock-timeout=${ctx.config.lockTimeout}`,
        held.file,
      ]);
      const tail = r.stdout.length > 2000 ? `…${r.stdout.slice(-2000)}` : r.stdout;
      return {
        data: {
          applied: countsLine(held.summary),
          exitCode: r.exitCode ?? 0,
          durationMs: r.durationMs,
          stdoutTail: tail,
        },
        text: `applied: ${countsLine(held.summary)} (${r.durationMs} ms)\n${tail}`,
        audit: runDetails(r),
      };
    },
  });
}

export const applyWriteTool = applyTool(false);
export const applyDestructiveTool = applyTool(true);
