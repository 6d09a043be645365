// oidc-provider ships no types; the tests use its constructor, `on` and `callback`.
declare module 'oidc-provider' {
  export default class Provider {
    constructor(issuer: string, configuration: Record<string, unknown>);
    on(event: string, listener: (...args: any[]) => void): this;
    callback(): (req: any, res: any) => void;
  }
}
