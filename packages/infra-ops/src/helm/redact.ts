/**
 * Secrets in Helm YAML: values of Secret `data`/`stringData`, and values whose key looks like a
 * credential (password, token, secret, apiKey, privateKey, ...), become [REDACTED]. Line-based, so
 * the YAML keeps its shape and line numbers.
 */
const SECRET_KEY =
  /^(\s*-?\s*)([\w.-]*(?:password|passwd|secret|token|api[_-]?key|private[_-]?key|credentials?|auth)[\w.-]*)(\s*:\s*)(\S.*)$/i;

export function redactYaml(doc: string, isSecretKind = /^kind:\s*Secret\s*$/m.test(doc)): string {
  const lines = doc.split('\n');
  let inData = false;
  return lines
    .map((line) => {
      if (isSecretKind) {
        if (/^(data|stringData):\s*$/.test(line)) {
          inData = true;
          return line;
        }
        if (inData && /^\s+\S/.test(line)) return line.replace(/^(\s+[^:]+:\s*)(\S.*)$/, '$1[REDACTED]');
        if (/^\S/.test(line)) inData = false;
      }
      const m = SECRET_KEY.exec(line);
      // a key with nested values (`password:` alone) has nothing on its line to hide
      return m && m[4] !== '|' && m[4] !== '>' ? `${m[1]}${m[2]}${m[3]}[REDACTED]` : line;
    })
    .join('\n');
}
