/**
 * Both encodings assemble their usual lines from pino's parts, not from pino's JSON: these tests
 * hold the console encoding to the reference algorithm (toConsoleLine applied to the json
 * encoding's line: parse, rebuild) and the json encoding to pino with redact() as its fields
 * formatter and nothing else, byte for byte, over a corpus of awkward entries and seeded random
 * ones, and check which lines are assembled (console: not parsed; json: pino serialized nothing).
 */
import { tracingChannel } from 'node:diagnostics_channel';
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createLogger, plainInfoOf, redact, toConsoleLine, type Logger } from '../../src/log.ts';

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
  ['a toJSON that is not enumerable', (l) => l.info(Object.defineProperty({ a: 1 }, 'toJSON', { value: () => ({ b: 2 }) }), 'hidden toJSON'), false],
  ['a nested toJSON that is not enumerable, reading its key', (l) => l.info({ o: Object.defineProperty({ a: 1 }, 'toJSON', { value: (key: string) => `key ${key}` }) }, 'hidden toJSON'), false],
  ['an array with a toJSON, reading its key', (l) => l.info({ list: Object.assign([1, 2], { toJSON: (key: string) => `key ${key}` }) }, 'array toJSON'), false],
  ['an inherited enumerable field', (l) => l.info(Object.create({ inherited: 1 }, { own: { value: 2, enumerable: true } }) as object, 'inherited'), false],
  ['fields that are not enumerable', (l) => l.info(Object.defineProperty({ a: 1 }, 'hidden', { value: 2 }), 'hidden'), true],
  ['symbol keys', (l) => l.info({ a: 1, [Symbol('s')]: 2 }, 'symbol keys'), true],
  ['U+2028, U+2029, DEL, every control character', (l) => l.info({ a: '\u2028\u2029\u007f', b: Array.from({ length: 32 }, (_, i) => String.fromCharCode(i)).join(''), o: { c: '\u2028\u0000' } }, 'line\u2028sep\u2029 del\u007f'), true],
  ['a long string with quotes and a control character', (l) => l.info({ a: `${'"\\'.repeat(60)}\u0001`, b: 'é'.repeat(101) }, `${'m"'.repeat(70)}\n`), true],
  ['lone surrogates in long strings', (l) => l.info({ a: `${'x'.repeat(120)}\ud800`, [`${'k'.repeat(120)}\udfff`]: 1 }, `${'m'.repeat(120)}\ud83d`), true],
  ['lone surrogates beside control characters', (l) => l.info({ a: 'x\ud800\n', ['k\udc00\t']: 1 }, '\u0001\ud800'), true],
  ['a secret-named field with a lone surrogate in its name', (l) => l.info({ 'token\ud800': 'x' }, 'lone'), true],
  ['a surrogate pair and a reversed one', (l) => l.info({ a: '\ud83d\ude00', b: '\ude00\ud83d' }, 'pairs'), true],
];

/**
 * Entries the json encoding leaves to pino though the console one assembles them: a top-level
 * name, string or message that is not well-formed (pino writes a lone surrogate raw).
 */
const jsonByPino = new Set([
  'a lone surrogate in a field',
  'a lone surrogate in a key',
  'a lone surrogate in the message',
  'lone surrogates in long strings',
  'lone surrogates beside control characters',
  'a secret-named field with a lone surrogate in its name',
  'a surrogate pair and a reversed one',
]);

/** Calls that write several lines, some while pino writes another. */
const multiLine: Array<[string, (l: Logger) => void]> = [
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
  [
    'a line without a message logged while pino writes one with a message',
    (l) => {
      let reads = 0;
      const fields = {
        big: 12n, // pino's line
        get inner(): string {
          if (++reads === 2) l.info({ a: 1 }); // assembled, no message to leave out
          return 'x';
        },
      };
      l.info(fields, 'outer keeps its message');
      l.info({ b: 2 }, 'and the next line its own');
    },
  ],
  [
    'a line logged while the fields of a line that is not plain (toJSON) are cleaned',
    (l) => {
      let reads = 0;
      const fields = {
        toJSON: () => 'x', // not plain: pino's path, whatever the line logged meanwhile resets
        get b(): number {
          if (++reads === 1) l.info('logged from a getter');
          return 2;
        },
      };
      l.info(fields, 'outer');
    },
  ],
  [
    'a line of another level logged while the fields are cleaned, the clock moving',
    (l) => {
      let reads = 0;
      const fields = {
        a: 1,
        get inner(): string {
          if (++reads === 1) l.error({ b: 2 }, 'from a getter'); // cleanFields reads it first
          return 'x';
        },
      };
      l.info(fields, 'outer, assembled');
      l.warn('last');
    },
  ],
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

  it.each(multiLine)('should write lines of %s as the parsing algorithm does', (_name, calls) => {
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

/** The lines pino's asJson made, from the tracing channel pino publishes them on. */
const asJsonChannel = tracingChannel<object, object>('pino_asJson');
let pinoLines: string[] = [];
const ignore = (): void => undefined;
const asJsonEnd = {
  start: ignore,
  end: (ctx: { result?: unknown }) => void pinoLines.push(ctx.result as string),
  asyncStart: ignore,
  asyncEnd: ignore,
  error: ignore,
};

/** A line pino made with neither fields nor a message: it serialized nothing for it. */
const BARE = /^\{"level":"[a-z]+","time":"[^"]+"\}\n$/;

describe('json encoding', () => {
  beforeEach(() => {
    pinoLines = [];
    asJsonChannel.subscribe(asJsonEnd);
  });

  afterEach(() => {
    asJsonChannel.unsubscribe(asJsonEnd);
  });

  /** The lines of `calls` from the json encoding and from pino with redact(), and what pino made. */
  function jsonBoth(calls: Call, clock: () => void = () => undefined): { actual: string[]; expected: string[]; made: string[] } {
    const ref = referenceJson();
    clock();
    calls(ref.logger);
    const actual: string[] = [];
    const { logger } = createLogger({ encoding: 'json', debug: true }, { write: (l) => actual.push(l) });
    clock();
    pinoLines = [];
    calls(logger);
    return { actual, expected: ref.lines, made: pinoLines };
  }

  const movingClock = (): void => {
    let now = NOW;
    vi.spyOn(Date, 'now').mockImplementation(() => (now += 1));
  };

  it.each(corpus)('should write %s as pino with redact() does', (name, call, fast) => {
    const { actual, expected, made } = jsonBoth(call);
    expect(actual).toHaveLength(1);
    expect(made).toHaveLength(1);
    expect(actual).toEqual(expected);
    const assembled = fast && !jsonByPino.has(name);
    // assembled: pino made a line of nothing; else it is pino's line that is written
    if (assembled) expect(made[0]).toMatch(BARE);
    else expect(made[0]).toBe(actual[0]);
  });

  it('should assemble the Invoking and Response lines, leaving pino nothing to serialize', () => {
    const lines: string[] = [];
    const { logger } = createLogger({ encoding: 'json', debug: false }, { write: (l) => lines.push(l) });
    logger.info({ function: 'fn1.bench', schedule: '* * * * * *', scheduled: '2026-12-07T01:00:00.000Z' }, 'Invoking');
    logger.info({ function: 'fn1.bench', status: 200, bytes: 2, duration: '1.2ms' }, 'Response');
    logger.warn({ function: 'f.dev', status: 502, hint: 'is the function deployed?' }, 'Response');
    logger.warn({ function: 'f.dev', error: 'connect ECONNREFUSED 10.0.0.1:8080', hint: undefined }, 'Invocation failed');
    logger.error({}, 'no fields');
    logger.info('a message only');
    logger.info({ status: 200 });
    const time = '"time":"2026-12-07T01:00:00.123Z"';
    expect(lines).toEqual([
      `{"level":"info",${time},"function":"fn1.bench","schedule":"* * * * * *","scheduled":"2026-12-07T01:00:00.000Z","msg":"Invoking"}\n`,
      `{"level":"info",${time},"function":"fn1.bench","status":200,"bytes":2,"duration":"1.2ms","msg":"Response"}\n`,
      `{"level":"warn",${time},"function":"f.dev","status":502,"hint":"is the function deployed?","msg":"Response"}\n`,
      `{"level":"warn",${time},"function":"f.dev","error":"connect ECONNREFUSED 10.0.0.1:8080","msg":"Invocation failed"}\n`,
      `{"level":"error",${time},"msg":"no fields"}\n`,
      `{"level":"info",${time},"msg":"a message only"}\n`,
      `{"level":"info",${time},"status":200}\n`,
    ]);
    expect(pinoLines).toHaveLength(lines.length);
    for (const made of pinoLines) expect(made).toMatch(BARE);
  });

  it.each(multiLine)('should write lines of %s as pino with redact() does, the clock moving', (_name, calls) => {
    const { actual, expected } = jsonBoth(calls, movingClock);
    expect(actual.length).toBeGreaterThan(1);
    expect(actual).toEqual(expected);
    expect(new Set(actual.map((l) => (JSON.parse(l) as { time: string }).time)).size).toBe(actual.length);
  });

  it('should write seeded random entries byte for byte as pino with redact() does', () => {
    let seed = 7122026;
    const random = (): number => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed / 0x7fffffff;
    };
    const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)] as T;
    const chars = ['a', 'é', '中', '😀', '"', '\\', '\t', '\n', '\u0000', '\u001f', '\u007f', '\u2028', '\u2029', '/', '<', ' '];
    const surrogates = ['\ud800', '\udfff', '\ud83d', '\ude00'];
    const text = (): string => {
      const r = random();
      if (r < 0.15) return pick(['', 'plain', 'Invoking', 'Response', JWT, `Bearer ${JWT}`, ',"msg":"y"']);
      const n = r < 0.8 ? Math.floor(random() * 12) : 95 + Math.floor(random() * 12); // around pino's 100
      let s = '';
      for (let i = 0; i < n; i++) {
        const c = random();
        s += c < 0.7 ? 'x' : c < 0.99 ? pick(chars) : pick(surrogates);
      }
      return s;
    };
    const keys = ['function', 'status', 'error', 'a', 'b', 'msg', 'err', 'token', '1', '0', '__proto__', 'toJSON'];
    const numbers = [0, -0, 1, -1.5, 200, 1e21, 1e-7, 2 ** 53 + 1, NaN, Infinity, -Infinity, Number.MIN_VALUE];
    const value = (depth: number): unknown => {
      const r = random();
      if (r < 0.45) return text();
      if (r < 0.65) return pick(numbers);
      if (r < 0.72) return pick([true, false, null, undefined]);
      if (r < 0.74) return pick([12n, new Date(0), new Thing(), () => 1, Symbol('s')]);
      if (depth > 4) return text();
      if (r < 0.88) return object(depth + 1, Math.floor(random() * 4));
      return Array.from({ length: Math.floor(random() * 4) }, () => value(depth + 1));
    };
    const object = (depth: number, n: number): Record<string, unknown> => {
      const o: Record<string, unknown> = {};
      for (let i = 0; i < n; i++) {
        const key = random() < 0.75 ? pick(keys) : text();
        Object.defineProperty(o, key, { value: value(depth), enumerable: true, writable: true, configurable: true });
      }
      return o;
    };
    const runs = 2000;
    let assembled = 0;
    const ref = referenceJson();
    const actual: string[] = [];
    const { logger } = createLogger({ encoding: 'json', debug: true }, { write: (l) => actual.push(l) });
    for (let i = 0; i < runs; i++) {
      const fields = object(0, Math.floor(random() * 6));
      const r = random();
      const msg = r < 0.8 ? text() : undefined;
      const call: Call = (l) => (msg === undefined ? (r < 0.9 ? l.info(fields) : l.info(msg)) : l.warn(fields, msg));
      call(ref.logger);
      pinoLines = [];
      call(logger);
      expect(actual.at(-1), JSON.stringify(ref.lines.at(-1))).toBe(ref.lines.at(-1));
      if (actual.at(-1) !== pinoLines[0]) {
        expect(pinoLines[0]).toMatch(BARE);
        assembled++;
      }
    }
    expect(actual).toHaveLength(runs);
    expect(assembled).toBeGreaterThan(runs / 4);
    expect(assembled).toBeLessThan(runs);
  });
});

describe('plainInfoOf: the Invoking and Response lines without pino around them', () => {
  beforeEach(() => {
    pinoLines = [];
    asJsonChannel.subscribe(asJsonEnd);
  });

  afterEach(() => {
    asJsonChannel.unsubscribe(asJsonEnd);
  });

  /** [name, fields, message]: what a caller may hand it, and what it must survive. */
  const cases: Array<[string, Record<string, unknown>, string]> = [
    ['the Invoking line', { function: 'fn1.bench', schedule: '* * * * * *', scheduled: '2026-12-07T01:00:00.000Z' }, 'Invoking'],
    ['the Response line', { function: 'fn1.bench', status: 200, bytes: 2, duration: '1.2ms', attempts: undefined, callId: 'c-1', hint: undefined }, 'Response'],
    ['a retried Response', { function: 'fn1.bench', status: 202, bytes: 0, duration: '3.1s', attempts: 3, callId: undefined, hint: undefined }, 'Response'],
    ['quotes, backslashes, control characters', { function: 'say "hi"\\', schedule: 'tab\there\nnew\u0001', scheduled: '\u2028' }, 'q "quoted" \\ back'],
    ['unicode and emoji', { function: 'é ü 中文 😀', schedule: 'e\u0301' }, 'héllo 😀'],
    ['a lone surrogate in a value', { function: 'x\ud800', status: 200 }, 'Response'],
    ['a lone surrogate in the message', { function: 'f.dev' }, 'bad \udfff'],
    ['numbers and literals', { a: -0, b: NaN, c: Infinity, d: 1e21, e: true, f: false, g: null, h: undefined }, 'numbers'],
    ['token-shaped text', { function: `Bearer ${JWT}`, schedule: 'Basic YWRtaW46cHc=', callId: JWT }, 'Response'],
    ['a secret-named field', { function: 'f.dev', token: 'hunter2', authorization: 'Bearer x' }, 'Response'],
    ['fields named level, time and msg', { level: 'fake', time: 'then', msg: 'from fields' }, 'Invoking'],
    ['a field named err', { err: new Error('boom') }, 'Invoking'],
    ['nested values', { function: 'f.dev', o: { a: [1, 'two', { password: 'p' }] } }, 'Response'],
    ['a value with toJSON', { function: 'f.dev', when: new Date(NOW) }, 'Response'],
    ['no fields', {}, 'Invoking'],
    ['an empty message', { function: 'f.dev' }, ''],
  ];

  it.each(cases)('should write %s as logger.info does, in both encodings', (_name, fields, msg) => {
    for (const encoding of ['json', 'console'] as const) {
      for (const debug of [false, true]) {
        const expected: string[] = [];
        const actual: string[] = [];
        createLogger({ encoding, debug }, { write: (l) => expected.push(l) }).logger.info(fields, msg);
        const plain = plainInfoOf(createLogger({ encoding, debug }, { write: (l) => actual.push(l) }).logger);
        plain(fields, msg);
        expect(actual, `${encoding} debug=${String(debug)}`).toEqual(expected);
        expect(actual).toHaveLength(1);
      }
    }
  });

  it('should leave pino nothing to do for the usual lines, and hand it the others', () => {
    const lines: string[] = [];
    const { logger } = createLogger({ encoding: 'json', debug: false }, { write: (l) => lines.push(l) });
    const plain = plainInfoOf(logger);
    plain({ function: 'fn1.bench', schedule: '* * * * * *', scheduled: '2026-12-07T01:00:00.000Z' }, 'Invoking');
    plain({ function: 'fn1.bench', status: 200, bytes: 2, duration: '1.2ms', attempts: undefined, callId: undefined, hint: undefined }, 'Response');
    expect(pinoLines).toEqual([]);
    plain({ msg: 'from fields' }, 'Invoking');
    expect(pinoLines).toHaveLength(1);
    expect(lines).toEqual([
      '{"level":"info","time":"2026-12-07T01:00:00.123Z","function":"fn1.bench","schedule":"* * * * * *","scheduled":"2026-12-07T01:00:00.000Z","msg":"Invoking"}\n',
      '{"level":"info","time":"2026-12-07T01:00:00.123Z","function":"fn1.bench","status":200,"bytes":2,"duration":"1.2ms","msg":"Response"}\n',
      pinoLines[0],
    ]);
  });

  it('should stamp each line with the time of its call, and interleave with pino lines in call order', () => {
    let now = NOW;
    vi.spyOn(Date, 'now').mockImplementation(() => (now += 1));
    const lines: string[] = [];
    // (making the logger reads the clock once)
    const { logger } = createLogger({ encoding: 'console', debug: false }, { write: (l) => lines.push(l) });
    const plain = plainInfoOf(logger);
    plain({ function: 'a.dev' }, 'Invoking');
    logger.warn({ function: 'b.dev' }, 'Retrying');
    plain({ function: 'c.dev' }, 'Response');
    expect(lines).toEqual([
      '2026-12-07T01:00:00.125Z\tinfo\tInvoking\t{"function":"a.dev"}\n',
      '2026-12-07T01:00:00.126Z\twarn\tRetrying\t{"function":"b.dev"}\n',
      '2026-12-07T01:00:00.127Z\tinfo\tResponse\t{"function":"c.dev"}\n',
    ]);
  });

  it('should still write through logger.info once a child logger exists, or for a logger made elsewhere', () => {
    const lines: string[] = [];
    const { logger } = createLogger({ encoding: 'json', debug: false }, { write: (l) => lines.push(l) });
    logger.child({ component: 'x' });
    plainInfoOf(logger)({ function: 'f.dev' }, 'Invoking');
    expect(lines).toEqual(['{"level":"info","time":"2026-12-07T01:00:00.123Z","function":"f.dev","msg":"Invoking"}\n']);
    expect(pinoLines).toHaveLength(1);
    const seen: unknown[] = [];
    const foreign = { info: (...args: unknown[]) => seen.push(args) } as unknown as Logger;
    plainInfoOf(foreign)({ function: 'f.dev' }, 'Invoking');
    expect(seen).toEqual([[{ function: 'f.dev' }, 'Invoking']]);
  });

  it('should write nothing below its level', () => {
    const lines: string[] = [];
    const { logger } = createLogger({ encoding: 'json', debug: false }, { write: (l) => lines.push(l) });
    logger.level = 'warn';
    plainInfoOf(logger)({ function: 'f.dev' }, 'Invoking');
    expect(lines).toEqual([]);
  });
});
