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

export function redact(text: string): string {
  let out = text;
  for (const value of registered) out = out.split(value).join('<redacted>');
  for (const [re, repl] of PATTERNS) out = out.replace(re, repl);
  return out;
}
