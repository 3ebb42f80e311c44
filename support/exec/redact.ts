/** Secret redaction for transcripts and attachments. Pure; registered values are redacted verbatim. */

const registered = new Set<string>();

/** Mark a value (token, password, key) as secret for the rest of the process. */
export function registerSecret(value: string): void {
  if (value && value.length >= 4) registered.add(value);
}

const PATTERNS: Array<[RegExp, string]> = [
  [
    /-----BEGIN ([A-Z ]*)PRIVATE KEY-----[\s\S]*?-----END \1PRIVATE KEY-----/g,
    '-----BEGIN $1PRIVATE KEY-----<redacted>-----END $1PRIVATE KEY-----',
  ],
  [/\b(Bearer|Basic)\s+[A-Za-z0-9._~+/=-]+/g, '$1 <redacted>'],
  [
    /\b(client-key-data|client-certificate-data|token|password|secret|auth-token|id-token|refresh-token)(["']?\s*[:=]\s*["']?)[^\s"',}]+/gi,
    '$1$2<redacted>',
  ],
  [/(--(?:token|password|client-key)(?:=|\s+))\S+/g, '$1<redacted>'],
];

/** Helm value keys whose values are secret (last segment): passwords, tokens, keys, credentials. */
const SECRET_KEY = /(password|passwd|secret|token|api-?key|private-?key|credentials?|(^|[._-])key)$/i;

export function isSecretKey(key: string): boolean {
  return SECRET_KEY.test(
    key
      .replace(/\[\d+\]$/, '')
      .split('.')
      .at(-1) ?? '',
  );
}

/** Register the values of secret-looking keys (Helm values: `etcd.password`, `hubble.tls.server.key`). */
export function registerSecretValues(values: Readonly<Record<string, string>>): void {
  for (const [k, v] of Object.entries(values)) if (isSecretKey(k)) registerSecret(v);
}

export function redact(text: string): string {
  let out = text;
  for (const value of registered) out = out.split(value).join('<redacted>');
  for (const [re, repl] of PATTERNS) out = out.replace(re, repl);
  return out;
}
