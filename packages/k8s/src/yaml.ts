/**
 * The YAML parser, loaded at the first call that needs it (apply, the text of get and describe):
 * at server start it would cost every session its ~270 KB for nothing.
 */
export async function loadYaml(): Promise<typeof import('yaml')> {
  const mod = (await import('yaml')) as Partial<typeof import('yaml')> & { default?: typeof import('yaml') };
  return (mod.parseAllDocuments ? mod : mod.default) as typeof import('yaml');
}

/** An object as YAML text. */
export async function toYaml(o: unknown): Promise<string> {
  return (await loadYaml()).stringify(o).trimEnd();
}
