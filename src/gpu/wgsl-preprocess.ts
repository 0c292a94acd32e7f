// A tiny preprocessor so one WGSL file can hold a subgroup variant and its fallback:
//   //#if NAME   ...   //#else   ...   //#endif     (nestable; NAME true when defined and truthy)
// Lines of inactive branches become blank lines, so compiler line numbers stay meaningful.

export type Defines = Record<string, boolean | number>;

export function preprocessWgsl(source: string, defines: Defines, file = 'shader'): string {
  const out: string[] = [];
  const stack: Array<{ active: boolean; taken: boolean }> = [];
  const lines = source.split('\n');
  lines.forEach((line, index) => {
    const directive = /^\s*\/\/#(if|else|endif)\b\s*(!?)(\w*)/.exec(line);
    const enclosing = stack.every((s) => s.active);
    if (!directive) {
      out.push(enclosing ? line : '');
      return;
    }
    const [, kind, negate, name] = directive;
    if (kind === 'if') {
      const value = Boolean(defines[name]) !== (negate === '!');
      stack.push({ active: value, taken: value });
    } else if (kind === 'else') {
      const top = stack[stack.length - 1];
      if (!top) throw new Error(`${file}:${index + 1}: //#else without //#if`);
      top.active = !top.taken;
    } else {
      if (!stack.pop()) throw new Error(`${file}:${index + 1}: //#endif without //#if`);
    }
    out.push('');
  });
  if (stack.length) throw new Error(`${file}: unterminated //#if`);
  return out.join('\n');
}
