import { ConfigError } from './errors.js';
import { type Access, DEFAULT_SCOPES, grants, type ScopeNames, scopeRefusal } from './scopes.js';
import type { InfraMcpServer } from './server.js';

/**
 * OAuth 2.1 resource server (MCP authorization, 2025-11-25): Protected Resource Metadata (RFC 9728),
 * Bearer challenges, JWT access tokens (RFC 9068) verified against the issuer's JWKS with `jose`,
 * loaded only when OAuth is configured.
 */
export interface OAuthOptions {
  /** The authorization server's issuer identifier, exactly as in its tokens' `iss` (https; http only on loopback). */
  issuer: string;
  /**
   * This server's resource URI (RFC 8707): the public URL of the MCP endpoint, e.g.
   * https://mcp.example.com/mcp. Tokens must carry it in `aud`.
   */
  resource: string;
  /** The `aud` tokens must carry, where the authorization server cannot use the resource URI (default: `resource`). */
  audience?: string;
  /** The issuer's JWKS URL (default: `jwks_uri` from the issuer's discovery document). */
  jwksUri?: string;
  /** Accepted signature algorithms (default RS256, PS256, ES256, EdDSA). `none` and HMAC are never accepted. */
  algorithms?: string[];
  /** Clock skew tolerated on exp/nbf, seconds (default 5). */
  clockToleranceSeconds?: number;
  /** Scope names granting read, write and destructive tools (defaults `infra-mcp:read`, `:write`, `:destructive`). */
  scopes?: Partial<ScopeNames>;
  /** Clock in ms (tests). */
  now?: () => number;
}

/** Who a valid token belongs to and what it grants. */
export interface OAuthIdentity {
  /** The caller as audit records and approval binding know it: `oauth:<sub>`, plus ` (client <id>)`. */
  caller: string;
  subject: string;
  clientId?: string;
  access: Access;
  /** Token expiry, seconds since the epoch. */
  expiresAt?: number;
}

/** A refusal the HTTP layer sends as is: status, the `reason` label of the rejection metric, headers. */
export interface OAuthRefusal {
  status: 401 | 403 | 503;
  reason: 'missing_token' | 'invalid_token' | 'insufficient_scope' | 'auth_unavailable';
  message: string;
  headers: Record<string, string>;
}

const ASYMMETRIC = [
  'RS256',
  'RS384',
  'RS512',
  'PS256',
  'PS384',
  'PS512',
  'ES256',
  'ES384',
  'ES512',
  'EdDSA',
  'Ed25519',
];
const DEFAULT_ALGORITHMS = ['RS256', 'PS256', 'ES256', 'EdDSA'];
const METADATA_PATH = '/.well-known/oauth-protected-resource';
const FETCH_TIMEOUT_MS = 5000;
/** Verified tokens remembered (a client sends the same token on every request), and for how long at most. */
const VERIFIED_CACHE_SIZE = 1024;
const VERIFIED_CACHE_MS = 60_000;
const LOOPBACK = new Set(['127.0.0.1', 'localhost', '[::1]', '::1']);

/** https, or http to a loopback address; no fragment. Throws a ConfigError naming `what`. */
function secureUrl(what: string, raw: string, example: string): URL {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new ConfigError(`${what}: "${raw}" is not a URL; example: ${example}`);
  }
  const loopbackHttp = url.protocol === 'http:' && LOOPBACK.has(url.hostname);
  if (url.protocol !== 'https:' && !loopbackHttp)
    throw new ConfigError(
      `${what}: "${raw}" must use https (plain http only on loopback: 127.0.0.1, ::1, localhost); example: ${example}`,
    );
  if (url.hash) throw new ConfigError(`${what}: "${raw}" must not have a #fragment; example: ${example}`);
  return url;
}

/** Check the options; every problem is a ConfigError saying which option and how to fix it. */
export function validateOAuthOptions(
  o: OAuthOptions,
  where = 'oauth',
): Required<Pick<OAuthOptions, 'issuer'>> & {
  resource: URL;
  audience: string;
  algorithms: string[];
  scopes: ScopeNames;
} {
  secureUrl(`${where}.issuer`, o.issuer, 'https://auth.example.com/realms/infra');
  const resource = secureUrl(`${where}.resource`, o.resource, 'https://mcp.example.com/mcp');
  if (resource.search)
    throw new ConfigError(
      `${where}.resource: "${o.resource}" must not have a ?query; example: https://mcp.example.com/mcp`,
    );
  if (o.jwksUri) secureUrl(`${where}.jwksUri`, o.jwksUri, 'https://auth.example.com/.well-known/jwks.json');
  const algorithms = o.algorithms ?? DEFAULT_ALGORITHMS;
  if (algorithms.length === 0)
    throw new ConfigError(`${where}.algorithms: empty; list at least one, e.g. [RS256, ES256]`);
  for (const alg of algorithms)
    if (!ASYMMETRIC.includes(alg))
      throw new ConfigError(
        `${where}.algorithms: "${alg}" is not accepted (${alg.toLowerCase() === 'none' ? 'unsigned tokens are never accepted' : 'only asymmetric signatures verify against a JWKS'}); use some of ${ASYMMETRIC.join(', ')}`,
      );
  const scopes = { ...DEFAULT_SCOPES, ...o.scopes };
  for (const [effect, name] of Object.entries(scopes))
    if (!/^[\x21\x23-\x5b\x5d-\x7e]+$/.test(name))
      throw new ConfigError(
        `${where}.scopes.${effect}: "${name}" is not a scope name (printable, no spaces or quotes); example: infra-mcp:${effect}`,
      );
  if (new Set(Object.values(scopes)).size !== 3)
    throw new ConfigError(
      `${where}.scopes: read, write and destructive need three different names (got ${Object.values(scopes).join(', ')})`,
    );
  if (
    o.clockToleranceSeconds !== undefined &&
    !(o.clockToleranceSeconds >= 0 && o.clockToleranceSeconds <= 300)
  )
    throw new ConfigError(
      `${where}.clockToleranceSeconds: expected 0..300 seconds, got ${o.clockToleranceSeconds}`,
    );
  return { issuer: o.issuer, resource, audience: o.audience ?? o.resource, algorithms, scopes };
}

/** Where RFC 8414 / OpenID Connect Discovery put an issuer's metadata, in the order MCP clients try them. */
function discoveryUrls(issuer: string): string[] {
  const u = new URL(issuer);
  const path = u.pathname.replace(/\/$/, '');
  const at = (p: string) => new URL(p, u.origin).href;
  return path
    ? [
        at(`/.well-known/oauth-authorization-server${path}`),
        at(`/.well-known/openid-configuration${path}`),
        at(`${path}/.well-known/openid-configuration`),
      ]
    : [at('/.well-known/oauth-authorization-server'), at('/.well-known/openid-configuration')];
}

/** The issuer's JWKS URL: configured, or from the issuer's own discovery document (whose `issuer` must match). */
export async function discoverJwksUri(o: OAuthOptions): Promise<string> {
  if (o.jwksUri) return o.jwksUri;
  const tried: string[] = [];
  for (const url of discoveryUrls(o.issuer)) {
    let res: Response;
    try {
      res = await fetch(url, { signal: AbortSignal.timeout(FETCH_TIMEOUT_MS), redirect: 'error' });
    } catch (err) {
      tried.push(
        `${url}: ${(err as Error).cause ? ((err as Error).cause as Error).message : (err as Error).message}`,
      );
      continue;
    }
    if (!res.ok) {
      tried.push(`${url}: HTTP ${res.status}`);
      continue;
    }
    const doc = (await res.json().catch(() => undefined)) as
      | { issuer?: unknown; jwks_uri?: unknown }
      | undefined;
    if (!doc || typeof doc !== 'object') throw new Error(`${url} is not a JSON metadata document`);
    if (doc.issuer !== o.issuer)
      throw new Error(
        `${url} names issuer ${JSON.stringify(doc.issuer)}, not the configured ${JSON.stringify(o.issuer)} (the issuer option must be exactly the identifier the authorization server uses, trailing slash included)`,
      );
    if (typeof doc.jwks_uri !== 'string') throw new Error(`${url} has no jwks_uri; set the jwksUri option`);
    secureUrl(`jwks_uri of ${url}`, doc.jwks_uri, 'https://auth.example.com/jwks');
    return doc.jwks_uri;
  }
  throw new Error(`no discovery document at the issuer: ${tried.join('; ')}`);
}

/** An RFC 6750 quoted-string value: printable ASCII without `"` and `\`. */
function quoted(value: string): string {
  return `"${value.replace(/[^\x20\x21\x23-\x5b\x5d-\x7e]/g, "'").slice(0, 300)}"`;
}

type Jose = typeof import('jose');

/** The resource server: metadata, challenges, token verification. */
export class OAuthResourceServer {
  readonly metadataUrl: string;
  readonly metadataPaths: ReadonlySet<string>;
  readonly scopes: ScopeNames;
  private readonly metadataJson: string;
  private readonly audience: string;
  private readonly algorithms: string[];
  private keys?: Promise<ReturnType<Jose['createRemoteJWKSet']>>;
  private readonly verified = new Map<string, { identity: OAuthIdentity; until: number }>();

  private constructor(
    private readonly o: OAuthOptions,
    private readonly jose: Jose,
  ) {
    const v = validateOAuthOptions(o);
    this.scopes = v.scopes;
    this.audience = v.audience;
    this.algorithms = v.algorithms;
    const suffix = v.resource.pathname === '/' ? '' : v.resource.pathname.replace(/\/$/, '');
    this.metadataPaths = new Set([METADATA_PATH, `${METADATA_PATH}${suffix}`]);
    this.metadataUrl = new URL(`${METADATA_PATH}${suffix}`, v.resource.origin).href;
    this.metadataJson = JSON.stringify({
      resource: o.resource,
      authorization_servers: [o.issuer],
      scopes_supported: [v.scopes.read, v.scopes.write, v.scopes.destructive],
      bearer_methods_supported: ['header'],
      resource_name: 'infra-mcp',
    });
  }

  /** Validates the options (ConfigError) and loads `jose`. */
  static async create(o: OAuthOptions): Promise<OAuthResourceServer> {
    validateOAuthOptions(o);
    return new OAuthResourceServer(o, await import('jose'));
  }

  /** The Protected Resource Metadata document (RFC 9728). */
  metadata(): string {
    return this.metadataJson;
  }

  /** `WWW-Authenticate` for a refusal (RFC 6750 §3, with RFC 9728's `resource_metadata`). */
  challenge(error?: { code: string; description: string; scope?: string }): string {
    const parts = [`resource_metadata=${quoted(this.metadataUrl)}`];
    if (error) parts.push(`error=${quoted(error.code)}`, `error_description=${quoted(error.description)}`);
    parts.push(`scope=${quoted(error?.scope ?? this.scopes.read)}`);
    return `Bearer ${parts.join(', ')}`;
  }

  /** A presented bearer token (possibly empty) -> its identity, or the refusal to send. */
  async authenticate(token: string): Promise<OAuthIdentity | OAuthRefusal> {
    if (!token)
      return {
        status: 401,
        reason: 'missing_token',
        message: `Unauthorized: send Authorization: Bearer <access token>; how to get one: ${this.metadataUrl}`,
        headers: { 'www-authenticate': this.challenge() },
      };
    let identity: OAuthIdentity;
    try {
      identity = await this.verify(token);
    } catch (err) {
      if (err instanceof Unavailable)
        return {
          status: 503,
          reason: 'auth_unavailable',
          message: `Service unavailable: cannot verify access tokens: ${err.message}`,
          headers: { 'retry-after': '5' },
        };
      const description = (err as Error).message;
      return {
        status: 401,
        reason: 'invalid_token',
        message: `Unauthorized: invalid access token: ${description}`,
        headers: { 'www-authenticate': this.challenge({ code: 'invalid_token', description }) },
      };
    }
    if (!identity.access.scopes.some((s) => Object.values(this.scopes).includes(s)))
      return this.insufficientScope(
        `the access token has none of this server's scopes (${Object.values(this.scopes).join(', ')}); it has: ${identity.access.scopes.join(' ') || 'no scopes'}`,
        this.scopes.read,
      );
    return identity;
  }

  /** 403 with `error="insufficient_scope"`: the client may authorize again with `scope` (step-up). */
  insufficientScope(description: string, scope: string): OAuthRefusal {
    return {
      status: 403,
      reason: 'insufficient_scope',
      message: `Forbidden: ${description}`,
      headers: { 'www-authenticate': this.challenge({ code: 'insufficient_scope', description, scope }) },
    };
  }

  /**
   * A tools/call whose tool needs a scope the token lacks: 403 `insufficient_scope` naming the scope,
   * so the client can authorize again with it. The pipeline refuses the call too, and audits it.
   */
  async refuseCall(
    app: InfraMcpServer,
    message: unknown,
    caller: string,
    access: Access,
  ): Promise<OAuthRefusal | undefined> {
    const m = message as { method?: unknown; id?: unknown; params?: { name?: unknown; arguments?: unknown } };
    if (m?.method !== 'tools/call' || m.id === undefined || typeof m.params?.name !== 'string') return;
    const name = m.params.name;
    const tool = app.registry.tools.get(name) ?? app.registry.hidden.get(name);
    if (!tool || grants(access, tool.effect)) return;
    await app.callTool(name, m.params.arguments ?? {}, { caller, access });
    return this.insufficientScope(scopeRefusal(name, tool.effect, access)!, access.names[tool.effect]);
  }

  /**
   * Verify a JWT access token; throws an Error whose message says what is wrong with it. A verified
   * token is remembered until it expires (at most a minute), so a client's next requests skip the
   * signature check.
   */
  async verify(token: string): Promise<OAuthIdentity> {
    const now = this.o.now?.() ?? Date.now();
    const hit = this.verified.get(token);
    if (hit && hit.until > now) return hit.identity;
    if (hit) this.verified.delete(token);
    const identity = await this.check(token);
    if (this.verified.size >= VERIFIED_CACHE_SIZE) this.verified.delete(this.verified.keys().next().value!);
    const expires = identity.expiresAt ? identity.expiresAt * 1000 : now;
    this.verified.set(token, { identity, until: Math.min(expires, now + VERIFIED_CACHE_MS) });
    return identity;
  }

  private async check(token: string): Promise<OAuthIdentity> {
    const { jwtVerify, errors } = this.jose;
    let payload: import('jose').JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, (header, t) => this.key(header, t), {
        issuer: this.o.issuer,
        audience: this.audience,
        algorithms: this.algorithms,
        clockTolerance: this.o.clockToleranceSeconds ?? 5,
        requiredClaims: ['sub', 'exp'],
        ...(this.o.now ? { currentDate: new Date(this.o.now()) } : {}),
      }));
    } catch (err) {
      if (err instanceof Unavailable) throw err;
      if (err instanceof errors.JWTExpired) throw new Error(`the token expired at ${isoOf(err.payload.exp)}`);
      if (err instanceof errors.JWTClaimValidationFailed) {
        const p = err.payload;
        if (err.claim === 'iss')
          throw new Error(
            `the token was issued by ${JSON.stringify(p.iss)}, not the configured issuer ${JSON.stringify(this.o.issuer)}`,
          );
        if (err.claim === 'aud')
          throw new Error(
            `the token's audience ${JSON.stringify(p.aud)} is not this server (${this.audience}); request the token with resource=${this.o.resource}`,
          );
        if (err.claim === 'nbf') throw new Error(`the token is not valid before ${isoOf(p.nbf)}`);
        throw new Error(`the token's "${err.claim}" claim is missing or invalid (${err.reason})`);
      }
      if (err instanceof errors.JWKSNoMatchingKey)
        throw new Error(
          `no key of the issuer's JWKS matches the token (kid ${JSON.stringify(headerOf(token).kid ?? null)}): it was not signed by the configured issuer`,
        );
      if (err instanceof errors.JWSSignatureVerificationFailed)
        throw new Error(
          `the token's signature does not verify with the issuer's key (kid ${JSON.stringify(headerOf(token).kid ?? null)})`,
        );
      if (err instanceof errors.JOSEAlgNotAllowed)
        throw new Error(
          `the token's algorithm ${JSON.stringify(headerOf(token).alg ?? null)} is not accepted (accepted: ${this.algorithms.join(', ')})`,
        );
      if (err instanceof errors.JWSInvalid || err instanceof errors.JWTInvalid)
        throw new Error(`the token is not a valid signed JWT (${(err as Error).message})`);
      throw new Error(`the token was refused (${(err as Error).message})`);
    }
    const subject = String(payload.sub);
    const client = payload.client_id ?? payload.azp;
    const clientId = typeof client === 'string' && client ? client : undefined;
    const raw = payload.scope ?? payload.scp;
    const scopes =
      typeof raw === 'string'
        ? raw.split(' ').filter(Boolean)
        : Array.isArray(raw)
          ? raw.filter((s): s is string => typeof s === 'string')
          : [];
    return {
      caller: `oauth:${subject}${clientId && clientId !== subject ? ` (client ${clientId})` : ''}`,
      subject,
      clientId,
      access: { scopes, names: this.scopes },
      expiresAt: payload.exp,
    };
  }

  /** The issuer's key set, fetched only from the configured issuer (or jwksUri); retried after a failure. */
  private async key(header: import('jose').JWTHeaderParameters, token: import('jose').FlattenedJWSInput) {
    this.keys ??= discoverJwksUri(this.o).then(
      (uri) => this.jose.createRemoteJWKSet(new URL(uri), { timeoutDuration: FETCH_TIMEOUT_MS }),
      (err) => {
        this.keys = undefined;
        throw new Unavailable((err as Error).message);
      },
    );
    const jwks = await this.keys;
    try {
      return await jwks(header, token);
    } catch (err) {
      const { JWKSNoMatchingKey, JWKSMultipleMatchingKeys, JOSENotSupported } = this.jose.errors;
      // the token's fault; anything else (timeout, HTTP error, a malformed key set) is the issuer's
      if (
        err instanceof JWKSNoMatchingKey ||
        err instanceof JWKSMultipleMatchingKeys ||
        err instanceof JOSENotSupported
      )
        throw err;
      throw new Unavailable(`the issuer's JWKS could not be fetched (${(err as Error).message})`);
    }
  }
}

/** The authorization server cannot be reached: a server-side problem (503), not the token's fault (401). */
class Unavailable extends Error {}

function isoOf(seconds: unknown): string {
  return typeof seconds === 'number' ? new Date(seconds * 1000).toISOString() : String(seconds);
}

function headerOf(token: string): { kid?: string; alg?: string } {
  try {
    return JSON.parse(Buffer.from(token.split('.')[0] ?? '', 'base64url').toString('utf8'));
  } catch {
    return {};
  }
}

/** `infra-mcp doctor`: the issuer's discovery document and JWKS are reachable and hold keys. */
export async function checkOAuthIssuer(o: OAuthOptions): Promise<{ ok: boolean; message: string }> {
  try {
    validateOAuthOptions(o);
    const uri = await discoverJwksUri(o);
    const res = await fetch(uri, { signal: AbortSignal.timeout(FETCH_TIMEOUT_MS), redirect: 'error' });
    if (!res.ok) return { ok: false, message: `JWKS ${uri}: HTTP ${res.status}` };
    const jwks = (await res.json().catch(() => undefined)) as { keys?: unknown[] } | undefined;
    const n = Array.isArray(jwks?.keys) ? jwks.keys.length : 0;
    if (n === 0) return { ok: false, message: `JWKS ${uri} holds no keys` };
    return { ok: true, message: `issuer ${o.issuer}: JWKS ${uri} (${n} key${n > 1 ? 's' : ''})` };
  } catch (err) {
    return { ok: false, message: `issuer ${o.issuer}: ${(err as Error).message}` };
  }
}
