/**
 * The console encoding assembles its usual lines without parsing pino's JSON: these tests hold it
 * to the reference algorithm (toConsoleLine applied to the json encoding's line: parse, rebuild),
 * byte for byte, over a corpus of awkward entries and a seeded random one, and check which lines
 * are parsed; and they hold the json encoding to pino with redact() as its fields formatter.
 */
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createLogger, redact, toConsoleLine, type Logger } from '../../src/log.ts';

const NOW = Date.UTC(2026, 11, 7, 1, 0, 0, 123);
const JWT = 'eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJl';

/** JSON.parse calls on whole lines (toConsoleLine's). */
let lineParses = 0;

beforeEach(() => {
  vi.spyOn(Date, 'now').mockReturnValue(NOW);
  const parse = JSON.parse.bind(JSON);
  lineParses = 0;
  vi.spyOn(JSON, 'parse').mockImplementation((text: string, reviver?: (this: unknown, key: string, value: unknown) => unknown) => {
    if (text.startsWith('{')) lineParses++;
    return parse(text, reviver) as unknown;
  });
});

afterEach(() => {
  vi.restoreAllMocks();
});

interface Pair {
  json: Logger;
  console: Logger;
  jsonLines: string[];
  consoleLines: string[];
}

function pair(): Pair {
  const jsonLines: string[] = [];
  const consoleLines: string[] = [];
  return {
    json: createLogger({ encoding: 'json', debug: true }, { write: (l) => jsonLines.push(l) }).logger,
    console: createLogger({ encoding: 'console', debug: true }, { write: (l) => consoleLines.push(l) }).logger,
    jsonLines,
    consoleLines,
  };
}

/** pino as configured before the console fast path: redact() as the fields formatter. */
function referenceJson(): { logger: Logger; lines: string[] } {
  const lines: string[] = [];
  const logger = pino(
    {
      level: 'debug',
      base: undefined,
      messageKey: 'msg',
      timestamp: () => `,"time":"${new Date(Date.now()).toISOString()}"`,
      formatters: {
        level: (label) => ({ level: label }),
        log: (fields) => redact(fields) as Record<string, unknown>,
      },
    },
    { write: (l: string) => lines.push(l) },
  );
  return { logger, lines };
}

type Call = (log: Logger) => void;

/** Both console and reference outputs of one call, and whether the console line was parsed. */
function both(call: Call): { actual: string; expected: string; json: string; parsed: boolean } {
  const p = pair();
  call(p.json);
  const before = lineParses;
  call(p.console);
  const parsed = lineParses > before;
  expect(p.jsonLines).toHaveLength(1);
  expect(p.consoleLines).toHaveLength(1);
  const json = p.jsonLines[0] as string;
  return { actual: p.consoleLines[0] as string, expected: toConsoleLine(json), json, parsed };
}

class Thing {
  a = 1;
}

/** [name, call, whether the console line is cut out without parsing] */
const corpus: Array<[string, Call, boolean]> = [
  ['the Invoking line', (l) => l.info({ function: 'fn1.bench', schedule: '* * * * * *', scheduled: '2026-12-07T01:00:00.000Z' }, 'Invoking'), true],
  ['the Response line', (l) => l.info({ function: 'fn1.bench', status: 200, bytes: 2, duration: '1.2ms' }, 'Response'), true],
  ['a failed Response with a hint', (l) => l.warn({ function: 'f.dev', status: 502, hint: 'is the function deployed?' }, 'Response'), true],
  ['an error and an undefined hint', (l) => l.warn({ function: 'f.dev', error: 'connect ECONNREFUSED 10.0.0.1:8080', hint: undefined }, 'Invocation failed'), true],
  ['quotes and backslashes', (l) => l.info({ a: 'say "hi"', b: 'C:\\dir\\', c: '\\"', d: '"' }, 'q "quoted" \\ back'), true],
  ['tabs, newlines, control characters', (l) => l.info({ a: 'tab\there', b: 'new\nline\r\n', c: 'ctl\u0001\u001f\u007f', d: '\b\f' }, 'msg\twith\ttabs\nand lines'), true],
  ['unicode and emoji', (l) => l.info({ a: 'é ü 中文', b: '😀👍🏽', c: 'line\u2028sep\u2029', d: 'e\u0301' }, 'héllo 😀 wörld'), true],
  ['a message that looks like a field', (l) => l.info({ a: 1 }, ',"msg":"x"'), true],
  ['a message that ends in a backslash', (l) => l.info({ a: 'b' }, 'ends\\'), true],
  ['a message of quotes', (l) => l.info({ a: 'b' }, '"""\\"'), true],
  ['a message with JSON in it', (l) => l.info({}, '{"level":"info","time":"x"}'), true],
  ['an empty message', (l) => l.info({ a: 1 }, ''), true],
  ['numbers', (l) => l.info({ a: 0, b: -0, c: 1.5, d: 1e21, e: 1e-7, f: 2 ** 53 + 1, g: -42, h: NaN, i: Infinity, j: -Infinity }, 'numbers'), true],
  ['booleans, null, undefined', (l) => l.info({ a: true, b: false, c: null, d: undefined }, 'literals'), true],
  ['only undefined fields', (l) => l.info({ a: undefined }, 'nothing'), true],
  ['nested objects and arrays', (l) => l.info({ o: { a: { b: [1, 'two', { c: null }] } }, e: {}, f: [], g: [[]], h: [undefined, null] }, 'nested'), true],
  ['nested strings with every escape', (l) => l.info({ o: { s: 'q"\\\t\n\u0000😀' }, a: ['\u001f'] }, 'nested'), true],
  ['a nested lone surrogate', (l) => l.info({ o: { s: 'x\ud800' } }, 'nested'), true],
  ['a backslash before "ud"', (l) => l.info({ path: 'C:\\udp' }, 'path'), true],
  ['integer-like keys', (l) => l.info({ b: 1, 2: 'two', 1: 'one', o: { z: 1, 10: 2, 9: 3 } }, 'keys'), true],
  ['odd keys', (l) => l.info({ 'a"b': 1, 'tab\tkey': 2, 'é😀': 3, '': 4 }, 'keys'), true],
  ['a long string', (l) => l.info({ a: 'x'.repeat(150), b: '"q'.repeat(80) }, 'y'.repeat(200)), true],
  ['secret-named fields', (l) => l.info({ authorization: 'Bearer abc', Token: 'x', 'Set-Cookie': 'c', password: 'p', kept: 'k' }, 'secrets'), true],
  ['secret-named fields, nested', (l) => l.info({ request: { headers: { Authorization: 'Basic eDp5', 'x-api-key': 'visible' }, body: { subject_token: 'hunter2', list: [{ password: 'hunter3' }] } } }, 'nested secrets'), true],
  ['token-shaped text', (l) => l.info({ a: JWT, b: `the proxy said: Bearer ${JWT}`, c: 'Basic YWRtaW46cHc=', d: { e: [`bearer ${JWT}`] } }, 'shapes'), true],
  ['a token-shaped message (messages are not scrubbed)', (l) => l.info({ a: 1 }, `Bearer ${JWT}`), true],
  ['deeper than the walk goes', (l) => l.info({ a: { b: { c: { d: { e: { f: { g: { h: { i: { j: 1 } } } } } } } } } }, 'deep'), true],
  ['a null-prototype object', (l) => l.info(Object.assign(Object.create(null) as object, { a: 1, o: Object.assign(Object.create(null) as object, { b: 2 }) }), 'null proto'), true],
  ['no message', (l) => l.info({ function: 'f.dev', status: 200 }), true],
  ['no message, a string last', (l) => l.info({ status: 200, function: 'f.dev' }), true],
  ['no message, an object last', (l) => l.info({ o: { a: 1 } }), true],
  ['no fields', (l) => l.info('just a message'), true],
  ['no fields, no message', (l) => l.info({}), true],
  ['a format string', (l) => l.info({ a: 1 }, 'fmt %s and %d', 'x', 2),false],
  ['the error level', (l) => l.error({ a: 1 }, 'error'), true],
  ['a number as message', (l) => l.info({ a: 1 }, 42 as unknown as string), false],
  ['true as message', (l) => l.info({ a: 'x' }, true as unknown as string), false],
  ['null as message', (l) => l.info({ a: 'x' }, null as unknown as string), false],
  ['null alone', (l) => l.info(null as unknown as string), false],
  ['an object as message', (l) => l.info({ a: 'x' }, { m: [1, 'two'] } as unknown as string), false],
  ['an object that reads as a string as message', (l) => l.info({ a: 'x' }, { toJSON: () => 'via "toJSON"' } as unknown as string),false],
  ['an object as message, with arguments', (l) => l.info({ a: 'x' }, { m: 1 } as unknown as string, 'arg'),false],
  ['a symbol as message (pino writes msg:undefined, not JSON)', (l) => l.info({ a: 'x', n: 1 }, Symbol('s') as unknown as string), false],
  ['a symbol as message, no fields', (l) => l.info({}, Symbol('s') as unknown as string), false],
  ['a field named msg', (l) => l.info({ msg: 'from fields', a: 1 }), false],
  ['a field named msg and a message', (l) => l.info({ msg: 'from fields', a: 1 }, 'message'), false],
  ['fields named level and time', (l) => l.info({ level: 'fake', time: 'then', a: 1 }, 'overrides'), false],
  ['a field named err', (l) => l.info({ err: new Error('boom') }, 'err'), false],
  ['an Error as fields', (l) => l.error(new Error('boom "quoted"')), false],
  ['an Error inside fields', (l) => l.error({ error: new Error('nested boom'), a: 1 }, 'failed'), true],
  ['a lone surrogate in a field', (l) => l.info({ a: 'x\ud800y' }, 'lone'), true],
  ['a lone surrogate in a key', (l) => l.info({ 'k\udc00': 1 }, 'lone'), true],
  ['a lone surrogate in the message', (l) => l.info({ a: 1 }, 'lone \ud83d'), true],
  ['a bigint', (l) => l.info({ big: 2n ** 70n }, 'bigint'), false],
  ['a nested bigint', (l) => l.info({ o: { big: 12n } }, 'bigint'), false],
  ['a Date, a Map, a class instance', (l) => l.info({ d: new Date(0), m: new Map([[1, 2]]), t: new Thing() }, 'objects'), false],
  ['a toJSON method', (l) => l.info({ o: { a: 1, toJSON: () => ({ b: 2 }) } }, 'toJSON'), false],
  ['a function and a symbol', (l) => l.info({ f: () => 1, s: Symbol('s') }, 'skipped'), true],
  ['a Proxy listing keys its own way', (l) => l.info({ p: new Proxy({ b: 1, 1: 2 }, { ownKeys: () => ['b', '1'] }) }, 'proxy'), false],
  ['an array as fields', (l) => l.info(['a', 'b'] as unknown as object, 'array'), false],
];

describe('console encoding', () => {
  it.each(corpus)('should write %s as the parsing algorithm does', (_name, call, fast) => {
    const { actual, expected, parsed } = both(call);
    expect(actual).toBe(expected);
    expect(parsed).toBe(!fast);
  });

  it('should write the same lines as the json encoding does, through redact()', () => {
    for (const [, call] of corpus) {
      const ref = referenceJson();
      const p = pair();
      call(ref.logger);
      call(p.json);
      expect(p.jsonLines).toEqual(ref.lines);
    }
  });

  it('should keep secrets out of console lines assembled without parsing', () => {
    const { actual, parsed } = both((l) =>
      l.warn({ function: 'f.dev', authorization: `Bearer ${JWT}`, error: `upstream echoed Bearer ${JWT} and Basic YWRtaW46cHc=`, token: 'hunter2' }, 'Response'),
    );
    expect(parsed).toBe(false);
    for (const secret of [JWT, 'hunter2', 'YWRtaW46cHc=']) expect(actual).not.toContain(secret);
    expect(actual).toContain('"authorization":"[REDACTED]"');
    expect(actual).toContain('"error":"upstream echoed [REDACTED] and [REDACTED]"');
  });

  it.each<[string, (l: Logger) => void]>([
    [
      'a child logger',
      (l) => {
        l.info({ a: 1 }, 'root');
        l.child({ a: 2, component: 'x' }).info({ a: 3 }, 'child shadows a binding');
        l.info({ a: 4 }, 'root again');
      },
    ],
    [
      'bindings set on the root',
      (l) => {
        l.info({ a: 1 }, 'before');
        l.setBindings({ b: 1, component: 'x' });
        l.info({ b: 2, c: 3 }, 'bound');
      },
    ],
    [
      'a line logged while pino writes another',
      (l) => {
        let reads = 0;
        const fields = {
          big: 2n ** 70n, // not plain: parsed, the number reads back otherwise
          get inner(): string {
            if (++reads === 2) l.info({ a: 1 }, 'logged from a getter'); // plain
            return 'x';
          },
        };
        l.info(fields, 'outer');
      },
    ],
    [
      'a line logged before pino writes another',
      (l) => {
        let reads = 0;
        const fields = {
          a: 1,
          // pino looks for an http request first: this logs before pino takes the outer time
          get method(): undefined {
            if (++reads === 1) l.warn({ b: 2 }, 'logged from a getter');
            return undefined;
          },
        };
        l.info(fields, 'outer');
      },
    ],
    [
      'a format-string line logged before pino writes another',
      (l) => {
        let reads = 0;
        const fields = {
          a: 1,
          get method(): undefined {
            if (++reads === 1) l.warn({ b: 2 }, 'from %s', 'a getter');
            return undefined;
          },
        };
        l.info(fields, 'outer');
      },
    ],
  ])('should write lines of %s as the parsing algorithm does', (_name, calls) => {
    const p = pair();
    calls(p.json);
    calls(p.console);
    expect(p.consoleLines.length).toBeGreaterThan(1);
    expect(p.consoleLines).toEqual(p.jsonLines.map(toConsoleLine));
  });

  it('should stamp each line with the time pino took for it, while the clock moves', () => {
    const run = (encoding: 'json' | 'console'): string[] => {
      let now = NOW;
      vi.spyOn(Date, 'now').mockImplementation(() => (now += 1));
      const lines: string[] = [];
      const { logger } = createLogger({ encoding, debug: false }, { write: (l) => lines.push(l) });
      let reads = 0;
      logger.info({ a: 1 }, 'first');
      logger.info(
        {
          get method(): undefined {
            if (++reads === 1) logger.info({ b: 2 }, 'from a getter');
            return undefined;
          },
        },
        'outer',
      );
      logger.warn('last');
      return lines;
    };
    const json = run('json');
    expect(new Set(json.map((l) => (JSON.parse(l) as { time: string }).time)).size).toBe(json.length);
    expect(run('console')).toEqual(json.map(toConsoleLine));
  });

  it('should write seeded random entries as the parsing algorithm and redact() do', () => {
    let seed = 20261207;
    const random = (): number => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed / 0x7fffffff;
    };
    const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)] as T;
    const strings = ['', 'plain', 'nodeinfo.openfaas-fn', 'a"b', 'back\\slash', '\\', '"', 'tab\there', 'new\nline', 'ctl\u0001', 'é 中文', '😀', 'x\ud800', '\udc00', JWT, `Bearer ${JWT}`, 'basic x', ',"msg":"y"', '{"a":1}', 'z'.repeat(101), 'q"'.repeat(60)];
    const keys = ['function', 'status', 'error', 'hint', 'a', 'b', 'msg', 'level', 'time', 'err', 'token', 'Authorization', 'x-api-key', '1', '10', '0', 'a"b', 'k\tk', 'é😀', '__proto__'];
    const numbers = [0, -0, 1, 1.5, 200, 1e21, 1e-7, NaN, Infinity];
    const value = (depth: number): unknown => {
      const r = random();
      if (r < 0.45) return pick(strings);
      if (r < 0.65) return pick(numbers);
      if (r < 0.72) return pick([true, false, null, undefined]);
      if (r < 0.75) return pick([12n, new Date(0), new Thing(), () => 1]);
      if (depth > 9) return pick(strings);
      if (r < 0.9) return object(depth + 1, Math.floor(random() * 4));
      return Array.from({ length: Math.floor(random() * 4) }, () => value(depth + 1));
    };
    const object = (depth: number, n: number): Record<string, unknown> => {
      const o: Record<string, unknown> = {};
      for (let i = 0; i < n; i++) Object.defineProperty(o, pick(keys), { value: value(depth), enumerable: true, writable: true, configurable: true });
      return o;
    };
    let fast = 0;
    const runs = 1500;
    const ref = referenceJson();
    for (let i = 0; i < runs; i++) {
      const fields = object(0, Math.floor(random() * 6));
      const msg = random() < 0.85 ? pick(strings) : undefined;
      const call: Call = (l) => (msg === undefined ? l.info(fields) : l.info(fields, msg));
      const { actual, expected, json, parsed } = both(call);
      expect(actual, json).toBe(expected);
      call(ref.logger);
      expect(json).toBe(ref.lines.at(-1));
      if (!parsed) fast++;
    }
    expect(fast).toBeGreaterThan(runs / 4);
  });
});
