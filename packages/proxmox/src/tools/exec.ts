import { ErrorCodes, headBytes, matchesAny, ToolError } from '@infra-mcp/core';
import { z } from 'zod';
import { findGuest, guestPath, tool, vmidArg } from './common.js';

export const execTool = tool({
  name: 'exec',
  title: 'Run a command in a VM (guest agent)',
  description:
    'Run a program in a VM through the QEMU guest agent: argv only, no shell. Waits for it to exit; returns exit code and capped stdout/stderr.',
  input: z.object({
    vmid: vmidArg,
    argv: z
      .array(z.string().min(1))
      .min(1)
      .max(64)
      .describe('Program and arguments, e.g. ["systemctl","status","nginx"]'),
  }),
  output: z.object({
    vmid: z.number(),
    exitcode: z.number(),
    stdout: z.string(),
    stderr: z.string(),
    truncated: z.boolean(),
    seconds: z.number(),
  }),
  effect: 'write',
  toolset: 'exec',
  plan: async ({ vmid, argv }, ctx) => {
    const ex = ctx.config.exec;
    if (!ex.enabled)
      throw new ToolError(
        'not_enabled',
        'proxmox_exec is off for this instance',
        'the operator enables it with plugins.proxmox.exec.enabled: true',
      );
    if (ex.commands && !matchesAny(argv[0]!, ex.commands))
      throw new ToolError(
        ErrorCodes.denied,
        `"${argv[0]}" is not an allowed command (allowed: ${ex.commands.join(', ')})`,
        'use one of the allowed programs; the operator sets plugins.proxmox.exec.commands',
      );
    const g = await findGuest(ctx, vmid);
    if (g.type !== 'qemu')
      throw new ToolError(
        'not_supported',
        `guest ${vmid} is a container: the guest agent runs in VMs only`,
        'containers have no guest agent',
      );
    if (g.status !== 'running')
      throw new ToolError('wrong_state', `VM ${vmid} is ${g.status}`, 'start it first (proxmox_guest_power)');
    const path = `${guestPath(g)}/agent/exec`;
    return {
      change: { vmid, node: g.node, path, argv },
      preview: { request: `POST /api2/json${path}`, argv },
      summary: `run ${JSON.stringify(argv)} in VM ${vmid} (${g.name ?? '-'}) on ${g.node}`,
    };
  },
  run: async ({ vmid }, ctx, plan) => {
    const { path, argv } = plan!.change as { path: string; argv: string[] };
    const ex = ctx.config.exec;
    const started = Date.now();
    const { pid } = await ctx.client.post<{ pid: number }>(path, { command: argv }, { signal: ctx.signal });
    const until = Math.min(started + ex.timeoutSeconds * 1000, ctx.deadline);
    const statusPath = path.replace(/\/exec$/, '/exec-status');
    for (let wait = 100; ; wait = Math.min(wait * 2, 1000)) {
      const st = await ctx.client.get<any>(statusPath, { pid }, { signal: ctx.signal });
      if (st.exited) {
        const cap = (s: unknown) => headBytes(String(s ?? ''), ex.maxOutputBytes);
        const out = String(st['out-data'] ?? '');
        const err = String(st['err-data'] ?? '');
        const truncated =
          Boolean(st['out-truncated'] || st['err-truncated']) || cap(out) !== out || cap(err) !== err;
        const exitcode = Number(st.exitcode ?? -1);
        const seconds = Math.round((Date.now() - started) / 100) / 10;
        return {
          data: { vmid, exitcode, stdout: cap(out), stderr: cap(err), truncated, seconds },
          text: [
            `exit ${exitcode} after ${seconds}s${truncated ? ' (output capped)' : ''}`,
            cap(out),
            err ? `stderr:\n${cap(err)}` : '',
          ]
            .filter(Boolean)
            .join('\n'),
        };
      }
      if (Date.now() + wait > until)
        throw new ToolError(
          'exec_timeout',
          `${JSON.stringify(argv)} in VM ${vmid} still runs after ${Math.round((Date.now() - started) / 1000)}s (pid ${pid} in the guest)`,
          `it keeps running in the guest; run something shorter, or raise exec.timeoutSeconds (${ex.timeoutSeconds}s)`,
          { pid },
        );
      await new Promise((r) => setTimeout(r, wait));
    }
  },
});
