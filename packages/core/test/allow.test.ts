/**
 * Glob semantics (picomatch) shared by policy tool-name lists and argument allow-lists, and the
 * allow-list helper's denial.
 */
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { allowListSchema, checkAllowed, isToolError, matchesAny, policyRulesSchema } from '../src/index.js';
import { decide } from '../src/policy.js';

describe('glob semantics', () => {
  it('* and ? stay within a path segment; ** crosses segments', () => {
    expect(matchesAny('/srv/work/app', ['/srv/work/*'])).toBe(true);
    expect(matchesAny('/srv/work/app/sub', ['/srv/work/*'])).toBe(false);
    expect(matchesAny('/srv/work/app/sub', ['/srv/work/**'])).toBe(true);
    expect(matchesAny('/srv/work', ['/srv/work/**'])).toBe(true);
    expect(matchesAny('team-a/x', ['team-?/x'])).toBe(true);
    expect(matchesAny('team-ab/x', ['team-?/x'])).toBe(false);
    // whole-value match, case-sensitive, dots are ordinary characters
    expect(matchesAny('xteam-a', ['team-*'])).toBe(false);
    expect(matchesAny('Team-a', ['team-*'])).toBe(false);
    expect(matchesAny('.hidden', ['*'])).toBe(true);
  });

  it('braces: alternatives and integer ranges (vmids)', () => {
    expect(matchesAny('prometheus_query_range', ['prometheus_{query,query_range}'])).toBe(true);
    expect(matchesAny('prometheus_series', ['prometheus_{query,query_range}'])).toBe(false);
    expect(matchesAny('150', ['{100..199}'])).toBe(true);
    expect(matchesAny('99', ['{100..199}'])).toBe(false);
    expect(matchesAny('1500', ['{100..199}'])).toBe(false);
    expect(matchesAny('vm-3', ['vm-{1..3}'])).toBe(true);
  });

  it('negation: !pattern excludes; only negatives means everything else', () => {
    const list = ['team-*', '!team-secret'];
    expect(matchesAny('team-a', list)).toBe(true);
    expect(matchesAny('team-secret', list)).toBe(false);
    expect(matchesAny('default', list)).toBe(false);
    expect(matchesAny('default', ['!kube-*'])).toBe(true);
    expect(matchesAny('kube-system', ['!kube-*'])).toBe(false);
    expect(matchesAny('anything', [])).toBe(false);
    expect(matchesAny('anything', undefined)).toBe(false);
  });

  it('policy tool-name lists use the same globs (braces, negation)', () => {
    const policy = { allow: ['prometheus_*', '!prometheus_series'], deny: ['*_{delete,destroy}'] };
    expect(decide(policy, 'prometheus_query', 'read', 'prometheus').allowed).toBe(true);
    expect(decide(policy, 'prometheus_series', 'read', 'prometheus').reason).toBe(
      "prometheus_series is not in the server policy's allow list",
    );
    expect(decide({ deny: ['*_{delete,destroy}'] }, 'k8s_delete', 'destructive', 'k8s').reason).toContain(
      'denied by the server policy',
    );
    // a pattern that cannot compile is a config error at start, not a silent no-match
    expect(policyRulesSchema.safeParse({ allow: ['prometheus_[query'] }).success).toBe(false);
    expect(policyRulesSchema.safeParse({ allow: ['{1..999999999}'] }).success).toBe(false);
  });
});

describe('checkAllowed', () => {
  const allow = { namespace: ['team-*', '!team-secret'], vmid: ['{100..199}'], dir: ['/srv/work/**'] };

  function denial(fn: () => unknown) {
    try {
      fn();
    } catch (err) {
      if (isToolError(err)) return err;
      throw err;
    }
    throw new Error('not denied');
  }

  it('passes allowed values and arguments without a list', () => {
    expect(checkAllowed(allow, 'namespace', 'team-a')).toBe('team-a');
    expect(checkAllowed(allow, 'vmid', 142)).toBe('142');
    expect(checkAllowed(allow, 'bucket', 'anything')).toBe('anything');
    expect(checkAllowed(undefined, 'namespace', 'kube-system')).toBe('kube-system');
  });

  it('a denial is a denied ToolError naming the argument, the value and the allowed patterns', () => {
    const err = denial(() =>
      checkAllowed(allow, 'namespace', 'kube-system', {
        where: 'k8s instance "prod"',
        configKey: 'plugins.k8s.allow.namespace',
      }),
    );
    expect(err.code).toBe('denied_by_policy');
    expect(err.message).toBe(
      'namespace "kube-system" is not allowed on k8s instance "prod": allowed namespace patterns are team-*, !team-secret',
    );
    expect(err.hint).toBe(
      'use a namespace matching one of the allowed patterns; the operator sets them in plugins.k8s.allow.namespace',
    );
    expect(err.details).toEqual({ argument: 'namespace', value: 'kube-system', allowed: allow.namespace });
    expect(denial(() => checkAllowed(allow, 'vmid', 200)).message).toContain('vmid "200" is not allowed');
    expect(denial(() => checkAllowed({ bucket: [] }, 'bucket', 'b')).message).toContain(
      'allowed bucket patterns are (none)',
    );
  });

  it('paths are normalised before matching: .. cannot climb out of an allowed tree', () => {
    expect(checkAllowed(allow, 'dir', '/srv/work/app/./env/', { path: true })).toBe('/srv/work/app/env');
    const climb = denial(() => checkAllowed(allow, 'dir', '/srv/work/../../etc', { path: true }));
    expect(climb.message).toContain('dir "/etc" is not allowed');
    expect(denial(() => checkAllowed(allow, 'dir', 'work/app', { path: true })).message).toContain(
      'not an absolute path',
    );
  });

  it('allowListSchema: declared arguments only, patterns checked at config load', () => {
    const schema = z.object({ allow: allowListSchema({ namespace: 'Namespaces', vmid: 'Guest ids' }) });
    expect(schema.parse({ allow: { namespace: ['team-*'] } }).allow).toEqual({ namespace: ['team-*'] });
    expect(schema.parse({}).allow).toBeUndefined();
    const typo = schema.safeParse({ allow: { namespaces: ['team-*'] } });
    expect(typo.success).toBe(false);
    expect(typo.error!.issues[0]!.code).toBe('unrecognized_keys');
    const bad = schema.safeParse({ allow: { namespace: ['team-[a'] } });
    expect(bad.error!.issues[0]!.message).toContain('bad glob pattern "team-[a"');
  });
});
