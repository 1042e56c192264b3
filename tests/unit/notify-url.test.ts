import { ValidationError } from '../../lib/core/errors';
import { addressAllowed, assertPublicAddress, classifyAddress, validateNotifyUrl, type Lookup } from '../../lib/jobs/notify-url';

describe('validateNotifyUrl', () => {
  test('http and https URLs pass, normalised, fragment dropped', () => {
    expect(validateNotifyUrl('https://hooks.example.com/pipeline?x=1#frag')).toBe('https://hooks.example.com/pipeline?x=1');
    expect(validateNotifyUrl('http://EXAMPLE.com')).toBe('http://example.com/');
  });

  test.each([
    [42, /must be an http:\/\/ or https:\/\/ URL string; got number/],
    [null, /got null/],
    ['not a url', /must not contain whitespace/],
    ['hooks.example.com/x', /must be an absolute http/],
    ['ftp://example.com/', /must use http or https; got ftp/],
    ['file:///etc/passwd', /must use http or https; got file/],
    ['javascript:alert(1)', /must use http or https/],
    ['https://user:pw@example.com/', /must not contain credentials/],
    [`https://example.com/${'a'.repeat(2048)}`, /at most 2048 characters; got 2068/],
  ])('%j is a 400 naming notify_url', (raw, message) => {
    let err: unknown;
    try {
      validateNotifyUrl(raw);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ValidationError);
    expect((err as ValidationError).field).toBe('notify_url');
    expect((err as ValidationError).status).toBe(400);
    expect((err as Error).message).toMatch(message);
  });
});

describe('classifyAddress', () => {
  test.each([
    ['8.8.8.8', 'public'],
    ['93.184.216.34', 'public'],
    ['127.0.0.1', 'loopback'],
    ['127.255.0.9', 'loopback'],
    ['10.1.2.3', 'private'],
    ['172.16.0.1', 'private'],
    ['172.31.255.255', 'private'],
    ['172.32.0.1', 'public'],
    ['192.168.1.1', 'private'],
    ['100.64.0.1', 'cgnat'],
    ['100.127.255.255', 'cgnat'],
    ['100.128.0.1', 'public'],
    ['169.254.169.254', 'metadata'],
    ['169.254.170.2', 'metadata'],
    ['169.254.1.1', 'link-local'],
    ['0.0.0.0', 'unspecified'],
    ['224.0.0.1', 'multicast'],
    ['239.255.255.250', 'multicast'],
    ['255.255.255.255', 'reserved'],
    ['192.0.2.10', 'reserved'],
    ['::', 'unspecified'],
    ['::1', 'loopback'],
    ['[::1]', 'loopback'],
    ['fc00::1', 'unique-local'],
    ['fd12:3456::1', 'unique-local'],
    ['fd00:ec2::254', 'metadata'],
    ['fe80::1', 'link-local'],
    ['fe80::1%eth0', 'link-local'],
    ['ff02::1', 'multicast'],
    ['2606:4700:4700::1111', 'public'],
    ['2001:db8::1', 'reserved'],
    // IPv4-mapped and -embedding forms are judged by the IPv4 address they reach.
    ['::ffff:127.0.0.1', 'loopback'],
    ['::ffff:7f00:1', 'loopback'],
    ['::ffff:169.254.169.254', 'metadata'],
    ['::ffff:a9fe:a9fe', 'metadata'],
    ['::ffff:10.0.0.1', 'private'],
    ['::ffff:8.8.8.8', 'public'],
    ['64:ff9b::a9fe:a9fe', 'metadata'],
    ['2002:7f00:1::', 'loopback'],
  ])('%s is %s', (ip, cls) => {
    expect(classifyAddress(ip)).toBe(cls);
  });

  test('only public addresses are always allowed; private ones with WEBHOOK_ALLOW_PRIVATE; metadata and the rest never', () => {
    expect(addressAllowed('public', false)).toBe(true);
    for (const cls of ['loopback', 'private', 'cgnat', 'link-local', 'unique-local'] as const) {
      expect(addressAllowed(cls, false)).toBe(false);
      expect(addressAllowed(cls, true)).toBe(true);
    }
    for (const cls of ['metadata', 'unspecified', 'multicast', 'reserved'] as const) expect(addressAllowed(cls, true)).toBe(false);
  });
});

describe('assertPublicAddress', () => {
  const refusal = async (p: Promise<unknown>) => {
    const e = await p.then(() => undefined, (err: unknown) => err);
    expect(e).toBeInstanceOf(ValidationError);
    expect((e as ValidationError).field).toBe('notify_url');
    return e as ValidationError;
  };

  test('literal addresses (in the URL forms the parser normalises) are classified without DNS', async () => {
    expect(await assertPublicAddress('http://8.8.8.8/hook', false)).toEqual([{ address: '8.8.8.8', family: 4 }]);
    expect((await refusal(assertPublicAddress('http://169.254.169.254/latest/meta-data/', false))).details).toMatchObject({ address: '169.254.169.254', address_class: 'metadata' });
    expect((await refusal(assertPublicAddress('http://169.254.169.254/', true))).details).toMatchObject({ address_class: 'metadata' });
    expect((await refusal(assertPublicAddress('http://127.0.0.1:9000/', false))).message).toMatch(/127\.0\.0\.1, a loopback address .*WEBHOOK_ALLOW_PRIVATE is off/);
    // Decimal and hex spellings of 127.0.0.1, and the mapped IPv6 form.
    await refusal(assertPublicAddress(validateNotifyUrl('http://2130706433/'), false));
    await refusal(assertPublicAddress(validateNotifyUrl('http://0x7f.1/'), false));
    await refusal(assertPublicAddress(validateNotifyUrl('http://[::ffff:127.0.0.1]/'), false));
    expect(await assertPublicAddress('http://127.0.0.1:9000/', true)).toEqual([{ address: '127.0.0.1', family: 4 }]);
  });

  test('a name is refused when any of its addresses is not allowed (real resolver: localhost)', async () => {
    const e = await refusal(assertPublicAddress('http://localhost:8080/', false));
    expect(e.message).toMatch(/host "localhost" resolves to (127\.0\.0\.1|::1), a loopback address/);
    const mixed: Lookup = async () => [{ address: '93.184.216.34', family: 4 }, { address: '10.0.0.7', family: 4 }];
    expect((await refusal(assertPublicAddress('https://rebind.example/', false, { lookup: mixed }))).details).toMatchObject({ address: '10.0.0.7', address_class: 'private' });
  });

  test('a name that does not resolve is a 400; a resolver that fails otherwise is a 503', async () => {
    const e = await refusal(assertPublicAddress('https://no-such-host.invalid/', false));
    expect(e.message).toMatch(/does not resolve/);
    const broken: Lookup = async () => {
      throw Object.assign(new Error('queryA ESERVFAIL'), { code: 'ESERVFAIL' });
    };
    await expect(assertPublicAddress('https://hooks.example/', false, { lookup: broken })).rejects.toMatchObject({ status: 503, code: 'dependency_unavailable' });
  });
});
