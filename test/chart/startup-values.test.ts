// Values the connector refuses at start-up (a crash loop in a Pod) are refused by the chart at
// install time instead, with a message naming the value. The chart's checks (templates/_validate.tpl)
// are compared with the connector's own parsers on many inputs, in one helm run per parser.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { SHUTDOWN_GRACE_MS } from '../../src/cli.ts';
import { DURATION_BOUNDS, isValidTimezone, parseConfig } from '../../src/config.ts';
import { parseDuration } from '../../src/duration.ts';
import { ConfigError, type ConfigIssue } from '../../src/errors.ts';
import { parseTimezones, timezonesPath } from '../../scripts/timezones.ts';
import { helmProbe, helmTemplate, helmTemplateError, one, type RenderOptions, type Values } from './helm.ts';
import { envOf, iamValues, podSpec, systemIssuer } from './fixtures.ts';
import { asDeployment } from './validate.ts';

const iam = { iam: { systemIssuer: { url: systemIssuer } } };

async function deploymentOf(values: Values) {
  return asDeployment(one(await helmTemplate(values, { releaseName: 'cron', namespace: 'tenant-a' }), 'Deployment'));
}

/** The chart's answer for each input of `.Values.probe`, through the named template `helper`. */
async function probe(helper: string, argument: string, inputs: readonly string[]): Promise<string[]> {
  const template = `results:\n{{- range .Values.probe }}\n  - {{ include "${helper}" ${argument} | quote }}\n{{- end }}\n`;
  const output = (await helmProbe(template, { ...iam, probe: inputs })) as { results: string[] };
  expect(output.results).toHaveLength(inputs.length);
  return output.results;
}

// The connector's own bounds (src/config.ts), by chart value.
const bounds = {
  rebuildInterval: { min: DURATION_BOUNDS.rebuild_interval.minMs, max: DURATION_BOUNDS.rebuild_interval.maxMs, range: 'from 1s to 24h' },
  rebuildTimeout: { min: DURATION_BOUNDS.rebuild_timeout.minMs, max: DURATION_BOUNDS.rebuild_timeout.maxMs, range: 'from 1s to 10m' },
  upstreamTimeout: { min: DURATION_BOUNDS.upstream_timeout.minMs, max: DURATION_BOUNDS.upstream_timeout.maxMs, range: 'from 1s to 24h' },
  shutdownTimeout: { min: DURATION_BOUNDS.shutdown_timeout.minMs, max: DURATION_BOUNDS.shutdown_timeout.maxMs, range: 'from 0 to 1h' },
} as const;

describe('durations', () => {
  const inputs = [
    '+', '0', '0s', '0.0s', '30s', '1m30s', '1.5h', '.5s', '1.s', '+1s', '500ms', '2h45m30.5s', '1h1h', '00012s',
    '1000000000ns', '1000000us', '1000000\u00b5s', '1000000\u03bcs', ' 30s ', '24h', '10m', '1440m', '3600s',
    '1000ms', '999ms', '999.999ms', '25h', '24h1s', '24h0.001ms', '10m0.001s', '1h0m1s', '3600.001s',
    '', 's', '1', '-1s', '-0', '1d', '1 s', '1S', '1e3s', '++1s', '1..5s', '0x10s', '30s,', '\uff11s', '1sec',
    '\u00b5s', '1m-1s', '1h 30m',
  ];

  it('are parsed by the chart as the connector parses them', async () => {
    const chart = await probe('cron-connector.durationMs', '.', inputs);
    inputs.forEach((input, i) => {
      const expected = parseDuration(input);
      const got = chart[i];
      if (expected === undefined) expect(got, JSON.stringify(input)).toBe('');
      else {
        expect(got, JSON.stringify(input)).not.toBe('');
        expect(Number(got), JSON.stringify(input)).toBeCloseTo(expected, 6);
      }
    });
  });

  const refused: { key: keyof typeof bounds; value: string }[] = [
    // One a key: which values are in range is compared with the connector above.
    { key: 'rebuildInterval', value: '0s' },
    { key: 'rebuildTimeout', value: '11m' },
    { key: 'upstreamTimeout', value: '1d' },
    { key: 'shutdownTimeout', value: '1h0m1s' },
  ];

  it.each(refused)('refuses $key $value, naming the value and the range', async ({ key, value }) => {
    const message = await helmTemplateError({ ...iam, [key]: value });
    expect(message).toContain(`${key} ${JSON.stringify(value)} must be a Go duration ${bounds[key].range}, e.g. `);
    expect(message).toContain('the connector would refuse to start with it');
  });

  it('accepts every lower bound', async () => {
    const env = envOf(await deploymentOf({ ...iam, rebuildInterval: '1s', rebuildTimeout: '1000ms', upstreamTimeout: '1s', shutdownTimeout: '0' }));
    expect(env).toMatchObject({ rebuild_interval: '1s', rebuild_timeout: '1000ms', upstream_timeout: '1s', shutdown_timeout: '0' });
  });

  it('accepts every upper bound', async () => {
    const env = envOf(await deploymentOf({ ...iam, rebuildInterval: '24h', rebuildTimeout: '10m', upstreamTimeout: '1440m', shutdownTimeout: '1h' }));
    expect(env).toMatchObject({ rebuild_interval: '24h', rebuild_timeout: '10m', upstream_timeout: '1440m', shutdown_timeout: '1h' });
  });

  it('agree with the connector on which of the inputs are in range', async () => {
    const chart = await probe('cron-connector.durationMs', '.', inputs);
    for (const { min, max } of Object.values(bounds)) {
      const inRange = (ms: number | undefined) => ms !== undefined && ms >= min && ms <= max;
      const chartSays = chart.map((got) => inRange(got === '' ? undefined : Number(got)));
      expect(chartSays).toEqual(inputs.map((input) => inRange(parseDuration(input))));
    }
  });
});

describe('the time zone', () => {
  const listed = parseTimezones(readFileSync(timezonesPath, 'utf8'));

  function offsets(): string[] {
    const out: string[] = [];
    for (const sign of ['+', '-', '\u2212', '']) {
      for (const hours of ['00', '05', '14', '23', '24', '5', '99']) {
        for (const minutes of ['', ':00', '00', ':30', '30', ':59', ':60', '60', ':5', ':00:00']) out.push(`${sign}${hours}${minutes}`);
      }
    }
    return out;
  }

  const others = [
    'UTC', 'utc', 'Etc/UTC', 'GMT', 'Etc/GMT+5', 'etc/gmt-14', 'Etc/GMT-15', 'US/Pacific', 'Asia/Calcutta', 'Europe/Kiev',
    'EST5EDT', ' UTC ', 'Mars/Olympus', 'Europe/Londn', 'Z', 'localtime', 'posixrules', 'Factory', 'right/UTC',
    'posix/Europe/London', 'Europe/London/', 'Europe//London', 'Europe\\London', 'utc+1', 'GMT+1',
  ];

  it('is accepted by the chart exactly when the connector accepts it, for every listed name in any case, offsets and typos', async () => {
    const inputs = [...listed, ...listed.map((n) => n.toUpperCase()), ...listed.map((n) => n.toLowerCase()), ...offsets(), ...others];
    const chart = await probe('cron-connector.isTimezone', '(dict "root" $ "zone" .)', inputs);
    // The connector trims its environment variables before checking them.
    const connector = inputs.map((input) => (isValidTimezone(input.trim()) ? 'true' : ''));
    const disagreements = inputs.filter((_, i) => chart[i] !== connector[i]);
    expect(disagreements).toEqual([]);
    expect(connector.filter((answer) => answer === 'true').length).toBeGreaterThan(listed.length * 3);
  });

  it.each(['Mars/Olympus', '+24:00'])('refuses %s, naming the value and the accepted forms', async (zone) => {
    const message = await helmTemplateError({ ...iam, timezone: zone });
    expect(message).toContain(`timezone ${JSON.stringify(zone)} is not an IANA time zone the connector accepts`);
    expect(message).toContain('or a UTC offset such as +01:00');
  });

  it('passes an accepted zone to the connector as written', async () => {
    expect(envOf(await deploymentOf({ ...iam, timezone: 'america/new_york' })).timezone).toBe('america/new_york');
  });
});

describe('terminationGracePeriodSeconds', () => {
  it('is derived from shutdownTimeout as ceil(seconds) + 5 when unset', async () => {
    const timeouts = ['0', '1ms', '1s', '1.5s', '25s', '25.001s', '59.999s', '1m', '30m', '1h'];
    const chart = await probe('cron-connector.minGracePeriodSeconds', '(dict "Values" (dict "shutdownTimeout" .))', timeouts);
    // the connector exits at most SHUTDOWN_GRACE_MS after shutdown_timeout
    expect(chart.map(Number)).toEqual(timeouts.map((t) => Math.ceil(((parseDuration(t) ?? Number.NaN) + SHUTDOWN_GRACE_MS) / 1000)));
  });

  it('is 30 with the default shutdownTimeout of 25s', async () => {
    const deployment = await deploymentOf(iamValues());
    expect(envOf(deployment).shutdown_timeout).toBe('25s');
    expect(podSpec(deployment).terminationGracePeriodSeconds).toBe(30);
  });

  it('follows shutdownTimeout when unset', async () => {
    expect(podSpec(await deploymentOf({ ...iam, shutdownTimeout: '2m' })).terminationGracePeriodSeconds).toBe(125);
  });

  it('keeps an explicit value that leaves room to drain', async () => {
    expect(podSpec(await deploymentOf({ ...iam, terminationGracePeriodSeconds: 30 })).terminationGracePeriodSeconds).toBe(30);
    expect(podSpec(await deploymentOf({ ...iam, terminationGracePeriodSeconds: 300 })).terminationGracePeriodSeconds).toBe(300);
  });

  it('refuses an explicit value below shutdownTimeout + 5s, saying the minimum', async () => {
    const message = await helmTemplateError({ ...iam, shutdownTimeout: '50s', terminationGracePeriodSeconds: 54 });
    expect(message).toContain(
      'terminationGracePeriodSeconds 54 is too short for shutdownTimeout "50s": the connector may take up to shutdownTimeout + 5s to exit after SIGTERM, so set at least 55, or leave terminationGracePeriodSeconds unset (null) to derive it',
    );
  });
});

describe('URLs', () => {
  const password = 's3cr3t-pw';

  /** The connector's verdict on `value` as gateway_url: its issue, or undefined when it starts. */
  function connectorIssue(value: string): ConfigIssue | undefined {
    try {
      parseConfig({ gateway_url: value });
      return undefined;
    } catch (error) {
      if (!(error instanceof ConfigError)) throw error;
      return error.issues.find((issue) => issue.variable === 'gateway_url');
    }
  }

  function problemOf(issue: ConfigIssue | undefined): string {
    if (issue === undefined) return '';
    if (issue.expected.startsWith('a URL without a user name or password')) return 'userInfo';
    if (issue.expected.startsWith('a URL without a query string or fragment')) return 'query';
    return 'notURL';
  }

  const accepted = [
    'http://gateway.openfaas:8080', 'http://gateway.openfaas:8080/', 'https://gw.example.com', 'http://gw:31112/prefix/path',
    'https://gw.example.com:8443/openfaas/', 'http://10.0.0.1:8080', 'http://[::1]:8080', 'http://gw:8080/a@b',
    'http://gw:8080/%40', 'http://gw\\@evil/', 'http://@gw:8080', 'http://:@gw:8080', ' http://gw:8080 ',
  ];
  const withUserInfo = [
    `http://admin:${password}@gw:8080`, 'http://admin@gw:8080', `http://:${password}@gw:8080`, `https://u:${password}@gw.example.com`,
    `http://a@b:${password}@gw`, `http://u:${password}@gw:8080/path?x=1`, `http://u:${password}@gw#f`, 'http://@@gw', 'http://::@gw',
    `http://u%40x:${password}@gw/`, `http://u:${password}@gw\\path`,
  ];
  const withQuery = [
    'http://gw:8080/?x=1', 'http://gw:8080?x=1', 'http://gw:8080/#f', 'http://gw:8080#', 'http://gw:8080/?',
    `http://gw/path?token=${password}`, `http://gw/?a@${password}`, `http://gw/#x@${password}`,
  ];
  const inputs = [...accepted, ...withUserInfo, ...withQuery];

  it('are refused by the chart for the reason the connector refuses them, shown as the connector shows them', async () => {
    const problems = await probe('cron-connector.urlProblem', '.', inputs);
    const shown = await probe('cron-connector.redactURL', '(trim .)', inputs);
    const connector = inputs.map(connectorIssue);
    expect(connector.map(problemOf)).toEqual([...accepted.map(() => ''), ...withUserInfo.map(() => 'userInfo'), ...withQuery.map(() => 'query')]);
    expect(problems).toEqual(connector.map(problemOf));
    connector.forEach((issue, i) => {
      const input = inputs[i] ?? '';
      // an "@" after "?" or "#": both print nothing after the scheme
      if (/[?#].*@/s.test(input)) expect(shown[i], JSON.stringify(input)).toBe('http://REDACTED');
      if (issue !== undefined) expect(shown[i], JSON.stringify(input)).toBe(issue.value);
    });
    expect(shown.filter((s) => s.includes(password))).toEqual([]);
    expect(connector.filter((issue) => issue?.value?.includes(password) === true)).toEqual([]);
  });

  const gatewayUserInfo = (shown: string) =>
    `gatewayURL "${shown}" holds a user name or password, which the connector refuses at start-up: they would be printed wherever the URL is, and are never sent. Remove them, e.g. http://gateway.openfaas:8080; for basic auth set iam.enabled=false and basicAuth=true (the default): the credentials come from the Secret named by basicAuthSecretName`;
  const gatewayQuery = (shown: string) =>
    `gatewayURL "${shown}" holds a query string or fragment, which the connector refuses at start-up: it appends paths such as /system/functions and /oauth/token to the URL. Remove the ?... or #... part, e.g. http://gateway.openfaas:8080`;
  const issuerUserInfo = (shown: string) =>
    `iam.systemIssuer.url "${shown}" holds a user name or password, which the connector refuses at start-up: they would be printed wherever the URL is, and are never sent. Remove them, e.g. https://gateway.example.com`;
  const issuerQuery = (shown: string) =>
    `iam.systemIssuer.url "${shown}" holds a query string or fragment, which the connector refuses at start-up: an issuer URL has neither, and the token's audience must match the issuer exactly. Remove the ?... or #... part, e.g. https://gateway.example.com`;

  const refused: { name: string; values: Values; message: string }[] = [
    { name: `gatewayURL=http://admin:${password}@gw:8080`, values: { ...iam, gatewayURL: `http://admin:${password}@gw:8080` }, message: gatewayUserInfo('http://REDACTED@gw:8080') },
    { name: `gatewayURL=http://admin@gw:8080`, values: { ...iam, gatewayURL: 'http://admin@gw:8080' }, message: gatewayUserInfo('http://REDACTED@gw:8080') },
    { name: 'gatewayURL=http://gw:8080/?x=1', values: { ...iam, gatewayURL: 'http://gw:8080/?x=1' }, message: gatewayQuery('http://gw:8080/?REDACTED') },
    { name: 'gatewayURL=http://gw:8080/#f', values: { ...iam, gatewayURL: 'http://gw:8080/#f' }, message: gatewayQuery('http://gw:8080/?REDACTED') },
    { name: 'gatewayURL with a token in the query', values: { ...iam, gatewayURL: `http://gw:8080/?token=${password}` }, message: gatewayQuery('http://gw:8080/?REDACTED') },
    { name: 'gatewayURL with an "@" in the query', values: { ...iam, gatewayURL: `http://gw:8080/?u=a@${password}` }, message: gatewayQuery('http://REDACTED') },
    {
      name: `gatewayURL with user info and IAM off`,
      values: { iam: { enabled: false }, gatewayURL: `http://admin:${password}@gateway.openfaas:8080` },
      message: gatewayUserInfo('http://REDACTED@gateway.openfaas:8080'),
    },
    {
      name: `iam.systemIssuer.url=https://u:${password}@gw.example.com`,
      values: { iam: { systemIssuer: { url: `https://u:${password}@gw.example.com` } } },
      message: issuerUserInfo('https://REDACTED@gw.example.com'),
    },
    {
      name: 'iam.systemIssuer.url=https://gw.example.com/?aud=x',
      values: { iam: { systemIssuer: { url: 'https://gw.example.com/?aud=x' } } },
      message: issuerQuery('https://gw.example.com/?REDACTED'),
    },
  ];

  for (const opts of [{}, { skipSchemaValidation: true }] satisfies RenderOptions[]) {
    const how = opts.skipSchemaValidation === true ? ' (--skip-schema-validation)' : '';
    it.each(refused)(`refuses $name with one line naming the value, why and the fix${how}`, async ({ values, message }) => {
      const error = await helmTemplateError(values, opts);
      expect(error).toContain(`: ${message}\n`);
      expect(error).not.toContain(password);
    });
  }

  it.each([
    { key: 'gatewayURL', values: { ...iam, gatewayURL: `ftp://admin:${password}@gw:8080` } },
    { key: 'gatewayURL', values: { ...iam, gatewayURL: `admin:${password}@gw:8080` } },
    { key: 'iam.systemIssuer.url', values: { iam: { systemIssuer: { url: `gw.example.com?u=admin@${password}` } } } },
    { key: 'iam.systemIssuer.url', values: { iam: { systemIssuer: { url: `https:///u:${password}@gw.example.com` } } } },
  ])('does not print the password of a $key that is no URL at all', async ({ key, values }) => {
    for (const opts of [{}, { skipSchemaValidation: true }]) {
      const error = await helmTemplateError(values, opts);
      expect(error).toContain(`${key} "`);
      expect(error).toContain('is not a URL');
      expect(error).toContain('REDACTED');
      expect(error).not.toContain(password);
    }
  });

  it('refuses a gatewayURL that is no URL under --skip-schema-validation too', async () => {
    const error = await helmTemplateError({ ...iam, gatewayURL: 'gateway.openfaas:8080' }, { skipSchemaValidation: true });
    expect(error).toContain(
      'gatewayURL "gateway.openfaas:8080" is not a URL: expected http:// or https:// and the host of the gateway as seen from the connector\'s Pod, e.g. http://gateway.openfaas:8080; the connector would refuse to start with it',
    );
  });

  it.each([
    { gatewayURL: 'http://gateway.openfaas:8080', issuer: 'https://gateway.example.com' },
    { gatewayURL: 'http://gw:31112/prefix/path/', issuer: 'https://gateway.example.com:8443' },
    { gatewayURL: 'https://gw.example.com', issuer: 'http://gateway.openfaas:8080/iam' },
    { gatewayURL: 'http://10.0.0.1:8080/a@b', issuer: 'https://gateway.example.com/' },
  ])('renders $gatewayURL and issuer $issuer as written', async ({ gatewayURL, issuer }) => {
    const env = envOf(await deploymentOf({ gatewayURL, iam: { systemIssuer: { url: issuer } } }));
    expect(env).toMatchObject({ gateway_url: gatewayURL, system_issuer: issuer });
    expect(envOf(await deploymentOf({ gatewayURL, iam: { enabled: false } })).gateway_url).toBe(gatewayURL);
  });
});
