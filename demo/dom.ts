// Small DOM helpers the demo's modules share.

export const $ = <T extends HTMLElement = HTMLElement>(id: string): T => {
  const el = document.getElementById(id);
  if (!el) throw new Error(`demo page: no element #${id}`);
  return el as T;
};
export const input = (id: string) => $<HTMLInputElement>(id);
export const select = (id: string) => $<HTMLSelectElement>(id);

export const errorText = (error: unknown) => (error instanceof Error ? error.message : String(error));
export const mib = (bytes: number) => `${(bytes / 2 ** 20).toFixed(1)} MiB`;

export function setStatus(id: string, text: string, kind: 'ok' | 'error' | '' = ''): void {
  const el = $(id);
  el.textContent = text;
  el.className = `status ${kind}`.trim();
}

/** The number in a form field, refused with the field's name when it breaks `rule`. */
export function numberField(id: string, what: string, rule: 'positive integer' | 'non-negative integer' | 'positive number'): number {
  const text = input(id).value.trim();
  const v = Number(text);
  const ok =
    text !== '' &&
    (rule === 'positive integer' ? Number.isSafeInteger(v) && v > 0 : rule === 'non-negative integer' ? Number.isSafeInteger(v) && v >= 0 : Number.isFinite(v) && v > 0);
  if (!ok) throw new Error(`${what} must be a ${rule}, got '${input(id).value}'`);
  return v;
}

/** Offers `bytes` as a download named `name`. */
export function downloadFile(bytes: Uint8Array, name: string): void {
  const url = URL.createObjectURL(new Blob([bytes as Uint8Array<ArrayBuffer>], { type: 'application/octet-stream' }));
  const a = document.createElement('a');
  a.href = url;
  a.download = name;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}
