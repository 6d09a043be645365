/**
 * A loopback fake Proxmox VE API for tests: HTTPS with the self-signed test certificate,
 * `/api2/json/...`, the `{data}` envelope, `Content-Type: application/json;charset=UTF-8` exactly,
 * token and ticket auth, 401/403/500/595 answers with PVE's reason phrases, UPID tasks that run,
 * finish and can fail, and a guest agent that runs commands with delays. It answers only
 * (method, path) pairs of the PVE API schema (test/schema.ts); everything else is 501, like PVE.
 * Erasable TypeScript only, so bench/proxmox-guests.mjs can import it with Node directly.
 */
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { checkReturns, match } from './schema.ts';

export const CERT_FILE = new URL('./fixtures/fake-pve.crt', import.meta.url).pathname;
const KEY_FILE = new URL('./fixtures/fake-pve.key', import.meta.url).pathname;
export const CERT_FINGERPRINT =
  'C6:6A:6E:B6:21:AC:1D:BD:C8:73:13:90:3E:72:01:68:DE:E1:AC:3A:6E:B3:E2:87:F1:70:3B:09:2D:00:D0:39';

export const TOKEN_ID = 'mcp@pve!test';
export const TOKEN_SECRET = '0f1e2d3c-4b5a-6978-8a9b-0c1d2e3f4a5b';
export const READONLY_TOKEN_ID = 'auditor@pve!ro';
export const READONLY_TOKEN_SECRET = '11111111-2222-3333-4444-555555555555';

export interface FakeGuest {
  vmid: number;
  type: 'qemu' | 'lxc';
  node: string;
  name: string;
  status: 'running' | 'stopped' | 'paused';
  protection?: boolean;
  tags?: string;
  pool?: string;
  agent?: boolean;
  /** The agent answers (default: when the guest runs and agent is set). */
  agentRunning?: boolean;
  snapshots?: { name: string; snaptime: number; description: string }[];
  maxmem?: number;
}

export interface FakeTask {
  upid: string;
  node: string;
  type: string;
  id: string;
  user: string;
  starttime: number;
  pid: number;
  finishAt: number;
  exitstatus?: string;
  endtime?: number;
  fail?: string;
  effect?: () => void;
  log: string[];
}

export interface Recorded {
  method: string;
  path: string;
  params: Record<string, string | string[]>;
  status?: number;
}

export interface FakeOptions {
  nodes?: { node: string; online: boolean }[];
  guests?: FakeGuest[];
  /** How long tasks run (ms). */
  taskMs?: number;
  /** Guest agent: how long a command runs unless it is `sleep N` (ms). */
  agentMs?: number;
}

const JSON_TYPE = 'application/json;charset=UTF-8';

class HttpError extends Error {
  readonly status: number;
  constructor(status: number, message: string) {
    super(message);
    this.status = status;
  }
}

export class FakePve {
  readonly nodes: { node: string; online: boolean }[];
  readonly guests: FakeGuest[];
  readonly tasks = new Map<string, FakeTask>();
  readonly requests: Recorded[] = [];
  /** Answers that do not match the schema's `returns` (a test asserts none). */
  readonly returnProblems: string[] = [];
  taskMs: number;
  agentMs: number;
  /** Task types that fail (e.g. `qmstart`) with this exit status. */
  readonly failingTasks = new Map<string, string>();
  /** Drop the connection of matching requests after carrying them out (or before, with `before`). */
  drop?: { method: string; path: RegExp; before?: boolean };
  readonly tickets = new Map<string, { user: string; csrf: string; expires: number }>();
  ticketTtlMs = 2 * 3600_000;
  users: Record<string, string> = { 'ops@pve': 'secret-password' };
  private readonly execs = new Map<number, { doneAt: number; exitcode: number; out: string; err: string }>();
  private nextPid = 1000;
  private server?: https.Server;
  url = '';

  constructor(opts: FakeOptions = {}) {
    this.nodes = opts.nodes ?? [
      { node: 'pve1', online: true },
      { node: 'pve2', online: true },
    ];
    this.guests = opts.guests ?? [
      {
        vmid: 100,
        type: 'qemu',
        node: 'pve1',
        name: 'web-01',
        status: 'running',
        agent: true,
        tags: 'web;prod',
        pool: 'prod',
      },
      {
        vmid: 101,
        type: 'qemu',
        node: 'pve1',
        name: 'db-01',
        status: 'running',
        protection: true,
        pool: 'prod',
      },
      { vmid: 102, type: 'qemu', node: 'pve2', name: 'build', status: 'stopped' },
      { vmid: 200, type: 'lxc', node: 'pve2', name: 'dns', status: 'running', tags: 'infra' },
    ];
    this.taskMs = opts.taskMs ?? 150;
    this.agentMs = opts.agentMs ?? 150;
  }

  async start(): Promise<this> {
    this.server = https.createServer(
      { cert: readFileSync(CERT_FILE), key: readFileSync(KEY_FILE) },
      (req, res) => {
        const chunks: Buffer[] = [];
        req.on('data', (c: Buffer) => chunks.push(c));
        req.on('end', () => this.handle(req, res, Buffer.concat(chunks).toString()));
      },
    );
    await new Promise<void>((r) => this.server!.listen(0, '127.0.0.1', r));
    this.url = `https://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this;
  }

  async close(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise((r) => this.server?.close(r));
  }

  guest(vmid: number): FakeGuest | undefined {
    return this.guests.find((g) => g.vmid === vmid);
  }

  count(method: string, path: RegExp): number {
    return this.requests.filter((r) => r.method === method && path.test(r.path)).length;
  }

  private handle(
    req: import('node:http').IncomingMessage,
    res: import('node:http').ServerResponse,
    body: string,
  ) {
    const u = new URL(req.url ?? '/', 'https://x');
    const method = req.method ?? 'GET';
    const params: Record<string, string | string[]> = {};
    const add = (sp: URLSearchParams) => {
      for (const k of new Set(sp.keys())) {
        const all = sp.getAll(k);
        params[k] = all.length > 1 || k === 'command' ? all : all[0]!;
      }
    };
    add(u.searchParams);
    if (method === 'POST' || method === 'PUT') add(new URLSearchParams(body));
    const path = u.pathname.replace(/^\/api2\/json/, '');
    const rec: Recorded = { method, path, params };
    this.requests.push(rec);
    const send = (status: number, reason: string, data: unknown) => {
      rec.status = status;
      res.writeHead(status, reason, { 'Content-Type': JSON_TYPE });
      res.end(JSON.stringify({ data }));
    };
    const drop =
      this.drop && this.drop.method === method && this.drop.path.test(path) ? this.drop : undefined;
    if (drop?.before) {
      req.socket.destroy();
      return;
    }
    try {
      if (!u.pathname.startsWith('/api2/json/')) throw new HttpError(404, 'Not Found');
      const m = match(method, path);
      if (!m) throw new HttpError(501, `Method '${method} ${path}' not implemented`);
      const user = m.template === '/access/ticket' && method === 'POST' ? '' : this.auth(req, method);
      this.checkPrivilege(user, method, m.template, m.pathParams);
      const data = this.route(method, m.template, m.pathParams, params, user);
      if (drop) {
        req.socket.destroy();
        return;
      }
      const problems = checkReturns(m.info.returns, data);
      if (problems.length) this.returnProblems.push(...problems.map((p) => `${method} ${m.template} ${p}`));
      send(200, 'OK', data);
    } catch (err) {
      if (err instanceof HttpError) send(err.status, err.message, null);
      else send(500, String((err as Error).message).replace(/[\r\n]/g, ' '), null);
    }
  }

  private auth(req: import('node:http').IncomingMessage, method: string): string {
    const h = req.headers.authorization;
    if (h) {
      const m = /^PVEAPIToken=([^=]+)=(.+)$/.exec(h);
      const ok =
        m &&
        ((m[1] === TOKEN_ID && m[2] === TOKEN_SECRET) ||
          (m[1] === READONLY_TOKEN_ID && m[2] === READONLY_TOKEN_SECRET));
      if (!ok) throw new HttpError(401, 'authentication failure');
      return m![1]!;
    }
    const cookie = /PVEAuthCookie=([^;]+)/.exec(req.headers.cookie ?? '')?.[1];
    if (!cookie) throw new HttpError(401, 'No ticket');
    const t = this.tickets.get(decodeURIComponent(cookie));
    if (!t || t.expires < Date.now()) throw new HttpError(401, 'permission denied - invalid PVE ticket');
    if (method !== 'GET' && req.headers.csrfpreventiontoken !== t.csrf)
      throw new HttpError(401, 'Permission check failed - invalid csrf token');
    return t.user;
  }

  /** The read-only token may read; a write names the privilege and path PVE would check. */
  private checkPrivilege(user: string, method: string, template: string, p: Record<string, string>) {
    if (user !== READONLY_TOKEN_ID || method === 'GET') return;
    const priv = template.includes('/status/')
      ? 'VM.PowerMgmt'
      : template.includes('/rollback')
        ? 'VM.Snapshot.Rollback'
        : template.includes('/snapshot')
          ? 'VM.Snapshot'
          : template.includes('/agent/')
            ? 'VM.GuestAgent.Unrestricted'
            : 'Sys.Modify';
    throw new HttpError(403, `Permission check failed (/vms/${p.vmid ?? ''}, ${priv})`);
  }

  private node(name: string) {
    const n = this.nodes.find((x) => x.node === name);
    if (!n)
      throw new HttpError(500, `hostname lookup '${name}' failed - failed to get address info for: ${name}`);
    if (!n.online) throw new HttpError(595, `Connection refused`);
    return n;
  }

  private guestOn(p: Record<string, string>, type: string): FakeGuest {
    this.node(p.node!);
    const g = this.guest(Number(p.vmid));
    if (!g || g.node !== p.node || g.type !== type)
      throw new HttpError(
        500,
        `Configuration file 'nodes/${p.node}/${type === 'qemu' ? 'qemu-server' : 'lxc'}/${p.vmid}.conf' does not exist`,
      );
    return g;
  }

  private startTask(node: string, type: string, id: string, user: string, effect?: () => void): string {
    const starttime = Math.floor(Date.now() / 1000);
    const pid = this.nextPid++;
    const hex = (n: number) => n.toString(16).toUpperCase().padStart(8, '0');
    const upid = `UPID:${node}:${hex(pid)}:${hex(pid * 7)}:${hex(starttime)}:${type}:${id}:${user || 'root@pam'}:`;
    this.tasks.set(upid, {
      upid,
      node,
      type,
      id,
      user: user || 'root@pam',
      starttime,
      pid,
      finishAt: Date.now() + this.taskMs,
      fail: this.failingTasks.get(type),
      effect,
      log: [`starting ${type} ${id}`],
    });
    return upid;
  }

  private settle(t: FakeTask) {
    if (t.exitstatus || Date.now() < t.finishAt) return;
    t.endtime = Math.floor(Date.now() / 1000);
    if (t.fail) {
      t.exitstatus = t.fail;
      t.log.push(`TASK ERROR: ${t.fail}`);
    } else {
      t.effect?.();
      t.exitstatus = 'OK';
      t.log.push('TASK OK');
    }
  }

  private taskRow(t: FakeTask) {
    this.settle(t);
    return {
      upid: t.upid,
      node: t.node,
      pid: t.pid,
      pstart: t.pid * 7,
      starttime: t.starttime,
      type: t.type,
      id: t.id,
      user: t.user,
      ...(t.exitstatus ? { status: t.exitstatus, endtime: t.endtime } : {}),
    };
  }

  private resource(g: FakeGuest) {
    const node = this.nodes.find((n) => n.node === g.node)!;
    const up = node.online && g.status === 'running';
    return {
      id: `${g.type}/${g.vmid}`,
      type: g.type,
      vmid: g.vmid,
      node: g.node,
      name: g.name,
      status: node.online ? g.status : 'unknown',
      cpu: up ? 0.0312 : 0,
      maxcpu: 2,
      mem: up ? 1_288_490_188 : 0,
      maxmem: g.maxmem ?? 4_294_967_296,
      disk: 0,
      maxdisk: 34_359_738_368,
      netin: up ? 123_456_789 : 0,
      netout: up ? 98_765_432 : 0,
      diskread: up ? 456_789_012 : 0,
      diskwrite: up ? 345_678_901 : 0,
      uptime: up ? 864_000 : 0,
      template: 0,
      ...(g.tags ? { tags: g.tags } : {}),
      ...(g.pool ? { pool: g.pool } : {}),
    };
  }

  private route(
    method: string,
    t: string,
    p: Record<string, string>,
    q: Record<string, any>,
    user: string,
  ): unknown {
    const key = `${method} ${t}`;
    const type = t.startsWith('/nodes/{node}/lxc') ? 'lxc' : 'qemu';
    switch (key) {
      case 'POST /access/ticket': {
        if (this.users[q.username] !== q.password) throw new HttpError(401, 'authentication failure');
        const ticket = `PVE:${q.username}:${randomUUID()}`;
        const csrf = randomUUID();
        this.tickets.set(ticket, { user: q.username, csrf, expires: Date.now() + this.ticketTtlMs });
        return { username: q.username, ticket, CSRFPreventionToken: csrf };
      }
      case 'GET /version':
        return { version: '9.0.3', release: '9.0', repoid: 'a1b2c3d4' };
      case 'GET /cluster/status':
        return [
          { id: 'cluster', type: 'cluster', name: 'lab', quorate: 1, nodes: this.nodes.length, version: 3 },
          ...this.nodes.map((n, i) => ({
            id: `node/${n.node}`,
            type: 'node',
            name: n.node,
            online: n.online ? 1 : 0,
            nodeid: i + 1,
            ip: `10.0.0.${i + 1}`,
            local: i === 0 ? 1 : 0,
          })),
        ];
      case 'GET /cluster/resources': {
        const vms = this.guests.map((g) => this.resource(g));
        const nodes = this.nodes.map((n) => ({
          id: `node/${n.node}`,
          type: 'node',
          node: n.node,
          status: n.online ? 'online' : 'offline',
        }));
        if (q.type === 'vm') return vms;
        if (q.type === 'node') return nodes;
        return [...nodes, ...vms];
      }
      case 'GET /nodes':
        return this.nodes.map((n) => ({
          node: n.node,
          status: n.online ? 'online' : 'offline',
          ...(n.online
            ? {
                cpu: 0.05,
                maxcpu: 16,
                mem: 8_589_934_592,
                maxmem: 68_719_476_736,
                disk: 5_368_709_120,
                maxdisk: 107_374_182_400,
                uptime: 1_209_600,
              }
            : {}),
        }));
      case 'GET /nodes/{node}/status':
        this.node(p.node!);
        return {
          'boot-info': { mode: 'efi' },
          cpu: 0.05,
          cpuinfo: { cores: 8, cpus: 16, model: 'Fake CPU', sockets: 1 },
          'current-kernel': {
            release: '6.14.8-2-pve',
            sysname: 'Linux',
            version: '#1 SMP',
            machine: 'x86_64',
          },
          loadavg: ['0.10', '0.20', '0.30'],
          memory: {
            total: 68_719_476_736,
            used: 8_589_934_592,
            free: 60_129_542_144,
            available: 60_129_542_144,
          },
          pveversion: 'pve-manager/9.0.3/a1b2c3d4',
          rootfs: {
            total: 107_374_182_400,
            used: 5_368_709_120,
            avail: 102_005_473_280,
            free: 102_005_473_280,
          },
          kversion: 'Linux 6.14.8-2-pve',
          uptime: 1_209_600,
        };
      case 'GET /nodes/{node}/qemu/{vmid}/status/current':
      case 'GET /nodes/{node}/lxc/{vmid}/status/current': {
        const g = this.guestOn(p, type);
        const r = this.resource(g);
        return {
          vmid: g.vmid,
          name: g.name,
          status: g.status === 'paused' ? 'running' : g.status,
          ...(type === 'qemu' ? { qmpstatus: g.status, agent: g.agent ? 1 : 0 } : {}),
          ha: { managed: 0 },
          cpu: r.cpu,
          cpus: 2,
          mem: r.mem,
          maxmem: r.maxmem,
          uptime: r.uptime,
        };
      }
      case 'GET /nodes/{node}/qemu/{vmid}/config':
      case 'GET /nodes/{node}/lxc/{vmid}/config': {
        const g = this.guestOn(p, type);
        return type === 'qemu'
          ? {
              name: g.name,
              cores: 2,
              memory: '4096',
              scsi0: `local-lvm:vm-${g.vmid}-disk-0,size=32G`,
              net0: 'virtio=BC:24:11:00:00:01,bridge=vmbr0',
              ostype: 'l26',
              digest: 'deadbeef',
              ...(g.agent ? { agent: '1' } : {}),
              ...(g.protection ? { protection: 1 } : {}),
              ...(g.tags ? { tags: g.tags } : {}),
            }
          : {
              hostname: g.name,
              cores: 1,
              memory: 512,
              rootfs: `local-lvm:vm-${g.vmid}-disk-0,size=8G`,
              arch: 'amd64',
              ostype: 'debian',
              digest: 'deadbeef',
              ...(g.protection ? { protection: 1 } : {}),
            };
      }
      case 'POST /nodes/{node}/qemu/{vmid}/status/start':
      case 'POST /nodes/{node}/qemu/{vmid}/status/stop':
      case 'POST /nodes/{node}/qemu/{vmid}/status/shutdown':
      case 'POST /nodes/{node}/qemu/{vmid}/status/reboot':
      case 'POST /nodes/{node}/qemu/{vmid}/status/suspend':
      case 'POST /nodes/{node}/qemu/{vmid}/status/resume':
      case 'POST /nodes/{node}/lxc/{vmid}/status/start':
      case 'POST /nodes/{node}/lxc/{vmid}/status/stop':
      case 'POST /nodes/{node}/lxc/{vmid}/status/shutdown':
      case 'POST /nodes/{node}/lxc/{vmid}/status/reboot':
      case 'POST /nodes/{node}/lxc/{vmid}/status/suspend':
      case 'POST /nodes/{node}/lxc/{vmid}/status/resume': {
        const g = this.guestOn(p, type);
        const action = t.split('/').pop()!;
        const next = {
          start: 'running',
          stop: 'stopped',
          shutdown: 'stopped',
          reboot: 'running',
          suspend: 'paused',
          resume: 'running',
        }[action] as FakeGuest['status'];
        const prefix = type === 'qemu' ? 'qm' : 'vz';
        return this.startTask(p.node!, `${prefix}${action}`, String(g.vmid), user, () => {
          g.status = next;
        });
      }
      case 'GET /nodes/{node}/tasks': {
        this.node(p.node!);
        return [...this.tasks.values()]
          .filter((x) => x.node === p.node && (!q.vmid || x.id === q.vmid))
          .map((x) => this.taskRow(x))
          .filter((x) => q.errors !== '1' || (x.status && x.status !== 'OK'))
          .reverse()
          .slice(0, Number(q.limit ?? 50));
      }
      case 'GET /nodes/{node}/tasks/{upid}/status': {
        this.node(p.node!);
        const task = this.tasks.get(p.upid!);
        if (!task) throw new HttpError(500, `unable to parse worker upid '${p.upid}'`);
        const row = this.taskRow(task);
        return {
          ...row,
          status: task.exitstatus ? 'stopped' : 'running',
          ...(task.exitstatus ? { exitstatus: task.exitstatus } : {}),
        };
      }
      case 'GET /nodes/{node}/tasks/{upid}/log': {
        const task = this.tasks.get(p.upid!);
        if (!task) throw new HttpError(500, `unable to parse worker upid '${p.upid}'`);
        this.settle(task);
        const start = Number(q.start ?? 0);
        return task.log
          .slice(start, start + Number(q.limit ?? 50))
          .map((line, i) => ({ n: start + i + 1, t: line }));
      }
      case 'GET /nodes/{node}/storage': {
        this.node(p.node!);
        const all = [
          {
            storage: 'local',
            type: 'dir',
            content: 'iso,vztmpl,backup',
            active: 1,
            enabled: 1,
            shared: 0,
            used: 10_737_418_240,
            total: 107_374_182_400,
            avail: 96_636_764_160,
          },
          {
            storage: 'local-lvm',
            type: 'lvmthin',
            content: 'images,rootdir',
            active: 1,
            enabled: 1,
            shared: 0,
            used: 53_687_091_200,
            total: 536_870_912_000,
            avail: 483_183_820_800,
          },
        ];
        return q.content ? all.filter((s) => s.content.split(',').includes(q.content)) : all;
      }
      case 'GET /nodes/{node}/storage/{storage}/content': {
        this.node(p.node!);
        if (p.storage !== 'local') return [];
        return this.guests
          .filter((g) => g.node === p.node && (!q.vmid || String(g.vmid) === q.vmid))
          .map((g, i) => ({
            volid: `local:backup/vzdump-${g.type}-${g.vmid}-2026_11_2${i}-01_00_00.vma.zst`,
            format: 'vma.zst',
            content: 'backup',
            size: 1_073_741_824 + g.vmid,
            ctime: 1_795_000_000 + i * 3600,
            vmid: g.vmid,
          }));
      }
      case 'GET /nodes/{node}/qemu/{vmid}/snapshot':
      case 'GET /nodes/{node}/lxc/{vmid}/snapshot': {
        const g = this.guestOn(p, type);
        return [
          ...(g.snapshots ?? []).map((s) => ({ ...s })),
          { name: 'current', description: 'You are here!', running: g.status === 'running' ? 1 : 0 },
        ];
      }
      case 'POST /nodes/{node}/qemu/{vmid}/snapshot':
      case 'POST /nodes/{node}/lxc/{vmid}/snapshot': {
        const g = this.guestOn(p, type);
        return this.startTask(
          p.node!,
          type === 'qemu' ? 'qmsnapshot' : 'vzsnapshot',
          String(g.vmid),
          user,
          () => {
            g.snapshots = [
              ...(g.snapshots ?? []),
              { name: q.snapname, snaptime: Math.floor(Date.now() / 1000), description: q.description ?? '' },
            ];
          },
        );
      }
      case 'POST /nodes/{node}/qemu/{vmid}/snapshot/{snapname}/rollback':
      case 'POST /nodes/{node}/lxc/{vmid}/snapshot/{snapname}/rollback': {
        const g = this.guestOn(p, type);
        if (!g.snapshots?.some((s) => s.name === p.snapname))
          throw new HttpError(500, `snapshot '${p.snapname}' does not exist`);
        return this.startTask(p.node!, type === 'qemu' ? 'qmrollback' : 'vzrollback', String(g.vmid), user);
      }
      case 'DELETE /nodes/{node}/qemu/{vmid}/snapshot/{snapname}':
      case 'DELETE /nodes/{node}/lxc/{vmid}/snapshot/{snapname}': {
        const g = this.guestOn(p, type);
        if (!g.snapshots?.some((s) => s.name === p.snapname))
          throw new HttpError(500, `snapshot '${p.snapname}' does not exist`);
        return this.startTask(
          p.node!,
          type === 'qemu' ? 'qmdelsnapshot' : 'vzdelsnapshot',
          String(g.vmid),
          user,
          () => {
            g.snapshots = g.snapshots!.filter((s) => s.name !== p.snapname);
          },
        );
      }
      case 'GET /nodes/{node}/rrddata':
      case 'GET /nodes/{node}/qemu/{vmid}/rrddata':
      case 'GET /nodes/{node}/lxc/{vmid}/rrddata': {
        if (t.includes('{vmid}')) this.guestOn(p, type);
        else this.node(p.node!);
        const n = 70;
        const now = Math.floor(Date.now() / 60_000) * 60;
        return Array.from({ length: n }, (_, i) => ({
          time: now - (n - i) * 60,
          cpu: 0.1 + (i % 10) / 100,
          mem: 1_000_000_000 + i * 1_000_000,
          maxmem: 4_294_967_296,
          netin: 1000 + i,
          netout: 2000 + i,
          diskread: 0,
          diskwrite: 5000,
        }));
      }
      case 'POST /nodes/{node}/qemu/{vmid}/agent/exec': {
        const g = this.guestOn(p, 'qemu');
        this.agentUp(g);
        const argv = ([] as string[]).concat(q.command ?? []);
        const pid = this.nextPid++;
        const secs = argv[0] === 'sleep' ? Number(argv[1]) * 1000 : this.agentMs;
        const out =
          argv[0] === 'echo'
            ? `${argv.slice(1).join(' ')}\n`
            : argv[0] === 'yes'
              ? 'y\n'.repeat(100_000)
              : '';
        this.execs.set(pid, {
          doneAt: Date.now() + secs,
          exitcode: argv[0] === 'false' ? 1 : 0,
          out,
          err: argv[0] === 'false' ? 'failed\n' : '',
        });
        return { pid };
      }
      case 'GET /nodes/{node}/qemu/{vmid}/agent/exec-status': {
        const g = this.guestOn(p, 'qemu');
        this.agentUp(g);
        const e = this.execs.get(Number(q.pid));
        if (!e) throw new HttpError(500, `Agent error: Invalid parameter 'pid'`);
        if (Date.now() < e.doneAt) return { exited: false };
        return {
          exited: true,
          exitcode: e.exitcode,
          'out-data': e.out,
          ...(e.err ? { 'err-data': e.err } : {}),
        };
      }
      default:
        throw new HttpError(501, `fake PVE: ${key} is in the schema but not served by the fake`);
    }
  }

  private agentUp(g: FakeGuest) {
    if (g.status !== 'running') throw new HttpError(500, `VM ${g.vmid} is not running`);
    if (!g.agent || g.agentRunning === false) throw new HttpError(500, 'QEMU guest agent is not running');
  }
}

/** A cluster of `nodes` nodes and `guests` guests (a third containers), for the bench and paging tests. */
export function bigCluster(nodes: number, guests: number): FakeOptions {
  const names = Array.from({ length: nodes }, (_, i) => `pve${i + 1}`);
  return {
    nodes: names.map((node) => ({ node, online: true })),
    guests: Array.from({ length: guests }, (_, i) => ({
      vmid: 100 + i,
      type: i % 3 === 2 ? 'lxc' : 'qemu',
      node: names[i % nodes]!,
      name: `${i % 3 === 2 ? 'ct' : 'vm'}-${['web', 'db', 'cache', 'worker', 'build'][i % 5]}-${String(i).padStart(3, '0')}`,
      status: i % 7 === 0 ? 'stopped' : 'running',
      tags: i % 4 === 0 ? 'prod' : undefined,
      pool: i % 2 === 0 ? 'team-a' : 'team-b',
    })),
  };
}
