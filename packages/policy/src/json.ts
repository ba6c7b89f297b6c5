/**
 * A strict JSON reader for policy documents.
 *
 * `JSON.parse` silently keeps the last of two equal keys, so `{"Effect": "Deny", "Effect": "Allow"}`
 * would read as an Allow. IAM refuses such documents, and so do we: this reader reports every
 * duplicate key with its path, and syntax errors with line and column. Objects come back with a
 * null prototype so that keys like `__proto__` are plain data.
 */

export type JsonValue = string | number | boolean | null | JsonValue[] | JsonObject;
export interface JsonObject {
  [key: string]: JsonValue;
}

export interface DuplicateKey {
  /** Path of the object holding the key twice, e.g. `Statement[0]`. */
  readonly path: string;
  readonly key: string;
}

export type JsonReadResult =
  | { readonly ok: true; readonly value: JsonValue; readonly duplicates: readonly DuplicateKey[] }
  | { readonly ok: false; readonly message: string };

/** Appends an object key to a path: `Statement[0]` + `Effect` → `Statement[0].Effect`. */
export function childPath(path: string, key: string): string {
  const simple = /^[A-Za-z_][A-Za-z0-9_]*$/.test(key);
  if (simple) return path === '' ? key : `${path}.${key}`;
  return `${path}[${JSON.stringify(key)}]`;
}

export function indexPath(path: string, index: number): string {
  return `${path}[${index}]`;
}

class SyntaxFailure extends Error {}

const MAX_DEPTH = 64;

export function readJson(text: string): JsonReadResult {
  const reader = new Reader(text);
  try {
    reader.skipSpace();
    const value = reader.value('', 0);
    reader.skipSpace();
    if (!reader.atEnd()) reader.fail('unexpected text after the end of the document');
    return { ok: true, value, duplicates: reader.duplicates };
  } catch (error) {
    if (error instanceof SyntaxFailure) return { ok: false, message: error.message };
    throw error;
  }
}

class Reader {
  private pos = 0;
  readonly duplicates: DuplicateKey[] = [];

  constructor(private readonly text: string) {}

  atEnd(): boolean {
    return this.pos >= this.text.length;
  }

  fail(what: string): never {
    let line = 1;
    let column = 1;
    for (let i = 0; i < this.pos && i < this.text.length; i++) {
      if (this.text.charCodeAt(i) === 10) {
        line++;
        column = 1;
      } else column++;
    }
    throw new SyntaxFailure(`Invalid JSON at line ${line}, column ${column}: ${what}.`);
  }

  skipSpace(): void {
    while (this.pos < this.text.length) {
      const c = this.text.charCodeAt(this.pos);
      if (c === 32 || c === 9 || c === 10 || c === 13 || c === 0xfeff) this.pos++;
      else break;
    }
  }

  value(path: string, depth: number): JsonValue {
    if (depth > MAX_DEPTH) this.fail(`nesting deeper than ${MAX_DEPTH} levels`);
    const c = this.text[this.pos];
    switch (c) {
      case '{':
        return this.object(path, depth);
      case '[':
        return this.array(path, depth);
      case '"':
        return this.string();
      case 't':
        return this.word('true', true);
      case 'f':
        return this.word('false', false);
      case 'n':
        return this.word('null', null);
      case undefined:
        return this.fail('the document ends where a value was expected');
      default:
        if (c === '-' || (c >= '0' && c <= '9')) return this.number();
        return this.fail(`unexpected character ${JSON.stringify(c)}`);
    }
  }

  private word<T extends JsonValue>(word: string, value: T): T {
    if (!this.text.startsWith(word, this.pos)) this.fail(`expected ${word}`);
    this.pos += word.length;
    return value;
  }

  private number(): number {
    const start = this.pos;
    if (this.text[this.pos] === '-') this.pos++;
    if (this.text[this.pos] === '0') this.pos++;
    else if (!this.digits()) this.fail('a number needs digits');
    if (this.text[this.pos] === '.') {
      this.pos++;
      if (!this.digits()) this.fail('a decimal point needs digits after it');
    }
    if (this.text[this.pos] === 'e' || this.text[this.pos] === 'E') {
      this.pos++;
      if (this.text[this.pos] === '+' || this.text[this.pos] === '-') this.pos++;
      if (!this.digits()) this.fail('an exponent needs digits');
    }
    return Number(this.text.slice(start, this.pos));
  }

  private digits(): boolean {
    const start = this.pos;
    while (this.pos < this.text.length) {
      const c = this.text.charCodeAt(this.pos);
      if (c < 48 || c > 57) break;
      this.pos++;
    }
    return this.pos > start;
  }

  private string(): string {
    this.pos++; // opening quote
    let out = '';
    let runStart = this.pos;
    for (;;) {
      if (this.pos >= this.text.length) this.fail('a string is not closed');
      const c = this.text.charCodeAt(this.pos);
      if (c === 34) {
        out += this.text.slice(runStart, this.pos);
        this.pos++;
        return out;
      }
      if (c < 32) this.fail('a control character must be escaped inside a string');
      if (c !== 92) {
        this.pos++;
        continue;
      }
      out += this.text.slice(runStart, this.pos);
      out += this.escape();
      runStart = this.pos;
    }
  }

  private escape(): string {
    const c = this.text[this.pos + 1];
    this.pos += 2;
    switch (c) {
      case '"':
        return '"';
      case '\\':
        return '\\';
      case '/':
        return '/';
      case 'b':
        return '\b';
      case 'f':
        return '\f';
      case 'n':
        return '\n';
      case 'r':
        return '\r';
      case 't':
        return '\t';
      case 'u': {
        const hex = this.text.slice(this.pos, this.pos + 4);
        if (!/^[0-9a-fA-F]{4}$/.test(hex)) this.fail('\\u needs four hex digits');
        this.pos += 4;
        return String.fromCharCode(parseInt(hex, 16));
      }
      default:
        this.pos -= 2;
        return this.fail(`unknown escape \\${c ?? ''}`);
    }
  }

  private array(path: string, depth: number): JsonValue[] {
    this.pos++;
    const items: JsonValue[] = [];
    this.skipSpace();
    if (this.text[this.pos] === ']') {
      this.pos++;
      return items;
    }
    for (;;) {
      this.skipSpace();
      items.push(this.value(indexPath(path, items.length), depth + 1));
      this.skipSpace();
      const c = this.text[this.pos];
      this.pos++;
      if (c === ']') return items;
      if (c !== ',') {
        this.pos--;
        this.fail('expected , or ] in an array');
      }
    }
  }

  private object(path: string, depth: number): JsonObject {
    this.pos++;
    const object = Object.create(null) as JsonObject;
    this.skipSpace();
    if (this.text[this.pos] === '}') {
      this.pos++;
      return object;
    }
    for (;;) {
      this.skipSpace();
      if (this.text[this.pos] !== '"') this.fail('expected a quoted key');
      const key = this.string();
      this.skipSpace();
      if (this.text[this.pos] !== ':') this.fail('expected : after a key');
      this.pos++;
      this.skipSpace();
      const value = this.value(childPath(path, key), depth + 1);
      if (Object.prototype.hasOwnProperty.call(object, key)) this.duplicates.push({ path, key });
      object[key] = value;
      this.skipSpace();
      const c = this.text[this.pos];
      this.pos++;
      if (c === '}') return object;
      if (c !== ',') {
        this.pos--;
        this.fail('expected , or } in an object');
      }
    }
  }
}

export function isObject(value: JsonValue | undefined): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
