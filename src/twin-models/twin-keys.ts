// What IoT Hub accepts as a key in a twin's JSON: "up to 1 KB in length ... excluding UNICODE control
// characters (segments C0 and C1), and '.', '$', and SP" (IoT Hub twin documentation).

const MAX_TWIN_KEY_BYTES = 1024;
// biome-ignore lint/suspicious/noControlCharactersInRegex: the control characters are what is refused
const FORBIDDEN = /[\u0000-\u001f\u007f-\u009f.$ ]/;

/** Why `key` cannot be a key of a twin, or undefined when it can. */
export function twinKeyProblem(key: string): string | undefined {
  if (key === '') return 'an empty key cannot be a twin key';
  if (Buffer.byteLength(key, 'utf8') > MAX_TWIN_KEY_BYTES)
    return `a key longer than ${MAX_TWIN_KEY_BYTES} bytes cannot be a twin key`;
  const bad = FORBIDDEN.exec(key);
  if (bad) {
    const shown =
      bad[0] === ' ' ? 'a space' : bad[0] === '.' || bad[0] === '$' ? `'${bad[0]}'` : 'a control character';
    return `'${key}' cannot be a twin key: it holds ${shown}, and IoT Hub refuses '.', '$', spaces and control characters in keys`;
  }
  return undefined;
}
