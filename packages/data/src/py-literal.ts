/**
 * A parser for the Python literal subset that .npy headers use: dicts, tuples, lists,
 * strings, integers, True/False/None. Anything else is a syntax error (thrown as a plain
 * Error; callers wrap it with the file name).
 */
export type PyLiteral = string | number | boolean | null | PyLiteral[] | { [key: string]: PyLiteral };

export function parsePyLiteral(text: string): PyLiteral {
  let p = 0;
  const ws = (): void => {
    while (p < text.length && /\s/.test(text[p])) p++;
  };
  const fail = (what: string): never => {
    throw new Error(`${what} at character ${p} of ${JSON.stringify(text.slice(0, 120))}`);
  };
  const value = (): PyLiteral => {
    ws();
    const c = text[p];
    if (c === '{') {
      p++;
      const out: { [key: string]: PyLiteral } = Object.create(null);
      for (;;) {
        ws();
        if (text[p] === '}') {
          p++;
          return out;
        }
        const key = value();
        if (typeof key !== 'string') fail('dict keys must be strings');
        ws();
        if (text[p] !== ':') fail("expected ':'");
        p++;
        out[key as string] = value();
        ws();
        if (text[p] === ',') p++;
        else if (text[p] !== '}') fail("expected ',' or '}'");
      }
    }
    if (c === '(' || c === '[') {
      const close = c === '(' ? ')' : ']';
      p++;
      const out: PyLiteral[] = [];
      for (;;) {
        ws();
        if (text[p] === close) {
          p++;
          return out;
        }
        out.push(value());
        ws();
        if (text[p] === ',') p++;
        else if (text[p] !== close) fail(`expected ',' or '${close}'`);
      }
    }
    if (c === "'" || c === '"') {
      p++;
      let s = '';
      while (p < text.length && text[p] !== c) {
        if (text[p] === '\\') {
          p++;
          const e = text[p];
          s += e === 'n' ? '\n' : e === 't' ? '\t' : e;
        } else s += text[p];
        p++;
      }
      if (p >= text.length) fail('unterminated string');
      p++;
      return s;
    }
    const word = /^(True|False|None|-?\d+L?)/.exec(text.slice(p, p + 32));
    if (!word) return fail('unexpected token');
    p += word[0].length;
    if (word[0] === 'True') return true;
    if (word[0] === 'False') return false;
    if (word[0] === 'None') return null;
    return Number(word[0].replace('L', ''));
  };
  const out = value();
  ws();
  if (p !== text.length) fail('trailing characters');
  return out;
}
