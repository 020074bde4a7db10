/**
 * The SSRF table: outbound targets the engine must refuse, when a flow (or connection) is saved and when
 * a call is sent. Tests run with ALLOWED_OUTBOUND_HOSTS = "sink.test" and SELF_HOSTS = "engine.test".
 * `http: false` marks targets that are not http(s) URLs at all: the flow schema refuses them at save time
 * (only absolute http(s) URLs or templates are accepted), the outbound policy at send time.
 */
export interface Target {
  url: string;
  why: string;
  http?: false;
}

export const TARGETS: Target[] = [
  // Loopback, in every spelling the URL parser turns into 127.0.0.0/8, ::1 or 0.0.0.0.
  { url: "http://127.0.0.1/", why: "loopback" },
  { url: "http://127.0.0.1:8787/admin", why: "loopback with a port" },
  { url: "http://127.1/", why: "loopback, short form" },
  { url: "http://127.255.255.254/", why: "loopback, end of 127/8" },
  { url: "http://localhost/", why: "localhost" },
  { url: "http://LOCALHOST:80/", why: "localhost, upper case" },
  { url: "http://localhost./", why: "localhost, trailing dot" },
  { url: "http://api.localhost/", why: "*.localhost" },
  { url: "http://[::1]/", why: "IPv6 loopback" },
  { url: "http://[0:0:0:0:0:0:0:1]/", why: "IPv6 loopback, long form" },
  { url: "http://[::ffff:127.0.0.1]/", why: "IPv4-mapped loopback" },
  { url: "http://[::ffff:7f00:1]/", why: "IPv4-mapped loopback, hex" },
  { url: "http://2130706433/", why: "loopback as one decimal number" },
  { url: "http://0177.0.0.1/", why: "loopback, octal" },
  { url: "http://0x7f000001/", why: "loopback, one hex number" },
  { url: "http://0x7f.0.0.1/", why: "loopback, hex first octet" },
  { url: "http://017700000001/", why: "loopback, one octal number" },
  { url: "http://１２７.０.０.１/", why: "loopback, full-width digits" },
  { url: "http://[::127.0.0.1]/", why: "IPv4-compatible loopback" },
  { url: "http://0.0.0.0/", why: "unspecified address" },
  { url: "http://0/", why: "unspecified address, short form" },
  { url: "http://[::]/", why: "IPv6 unspecified address" },
  // Link-local and cloud metadata endpoints.
  { url: "http://169.254.169.254/latest/meta-data/", why: "cloud metadata" },
  { url: "http://169.254.169.254.:80/", why: "cloud metadata, trailing dot" },
  { url: "http://[::ffff:169.254.169.254]/", why: "cloud metadata, IPv4-mapped" },
  { url: "http://2852039166/", why: "cloud metadata, decimal" },
  { url: "http://0xa9fea9fe/", why: "cloud metadata, hex" },
  { url: "http://metadata.google.internal/computeMetadata/v1/", why: "GCP metadata name" },
  { url: "http://metadata/", why: "bare metadata name" },
  { url: "http://[fd00:ec2::254]/", why: "AWS IPv6 metadata" },
  { url: "http://100.100.100.200/", why: "Alibaba metadata (CGNAT)" },
  { url: "http://169.254.0.1/", why: "link-local" },
  // Private ranges (RFC 1918), in several spellings.
  { url: "http://10.0.0.1/", why: "10/8" },
  { url: "http://10.255.255.255/", why: "10/8, top" },
  { url: "http://172.16.0.1/", why: "172.16/12" },
  { url: "http://172.31.255.254/", why: "172.16/12, top" },
  { url: "http://192.168.0.1/", why: "192.168/16" },
  { url: "http://192.168.1.1:8080/", why: "192.168/16 with a port" },
  { url: "http://012.0.0.1/", why: "10.0.0.1, octal first octet" },
  { url: "http://0xc0a80001/", why: "192.168.0.1, one hex number" },
  // CGNAT (RFC 6598) and other reserved IPv4 ranges.
  { url: "http://100.64.0.1/", why: "CGNAT" },
  { url: "http://100.127.255.254/", why: "CGNAT, top" },
  { url: "http://192.0.0.1/", why: "IETF protocol assignments" },
  { url: "http://198.18.0.1/", why: "benchmarking" },
  { url: "http://224.0.0.1/", why: "multicast" },
  { url: "http://255.255.255.255/", why: "broadcast" },
  { url: "http://240.0.0.1/", why: "reserved 240/4" },
  { url: "http://192.0.2.1/", why: "documentation (TEST-NET-1)" },
  // IPv6 unique local, link-local and addresses that embed a refused IPv4 address.
  { url: "http://[fc00::1]/", why: "IPv6 unique local" },
  { url: "http://[fd12:3456:789a::1]/", why: "IPv6 unique local (fd)" },
  { url: "http://[fe80::1]/", why: "IPv6 link-local" },
  { url: "http://[febf::1]/", why: "IPv6 link-local, top" },
  { url: "http://[fec0::1]/", why: "IPv6 site-local" },
  { url: "http://[ff02::1]/", why: "IPv6 multicast" },
  { url: "http://[64:ff9b::7f00:1]/", why: "NAT64 of loopback" },
  { url: "http://[64:ff9b::a9fe:a9fe]/", why: "NAT64 of metadata" },
  { url: "http://[2002:7f00:1::]/", why: "6to4 of loopback" },
  { url: "http://[::ffff:0:7f00:1]/", why: "IPv4-translated loopback" },
  { url: "http://[2001:0:4136:e378:8000:63bf:3fff:fdd2]/", why: "Teredo" },
  { url: "http://[2001:db8::1]/", why: "IPv6 documentation" },
  // Userinfo tricks: credentials in URLs are refused, and the host is what the parser says it is.
  { url: "http://a@127.0.0.1/", why: "userinfo before loopback" },
  { url: "http://sink.test@127.0.0.1/", why: "allowed host as userinfo" },
  { url: "http://user:pass@sink.test/", why: "credentials to an allowed host" },
  { url: "http://sink.test:80@10.0.0.1/", why: "allowed host:port as userinfo" },
  { url: "http://127.0.0.1#@sink.test/", why: "allowed host after a fragment" },
  { url: "http://127.0.0.1\\@sink.test/", why: "allowed host after a backslash" },
  // Not HTTP.
  { url: "file:///etc/passwd", why: "file:", http: false },
  { url: "gopher://127.0.0.1:6379/_INFO", why: "gopher:", http: false },
  { url: "data:text/plain,hello", why: "data:", http: false },
  { url: "ftp://sink.test/file", why: "ftp:", http: false },
  { url: "javascript:alert(1)", why: "javascript:", http: false },
  { url: "ws://sink.test/socket", why: "ws:", http: false },
  { url: "dict://127.0.0.1:11211/stat", why: "dict:", http: false },
  { url: "ldap://127.0.0.1/", why: "ldap:", http: false },
  // The engine's own host (SELF_HOSTS).
  { url: "https://engine.test/v1/api-keys", why: "engine's own host" },
  { url: "http://ENGINE.test:8080/v1/automation/flows", why: "engine's own host, other case and port" },
];

/** Redirects from an allowed host to a refused one: refused at send time, hop by hop (save time sees only sink.test). */
export const REDIRECTS: Target[] = [
  { url: "http://sink.test/redirect?to=http://127.0.0.1/", why: "redirect to loopback" },
  { url: "http://sink.test/redirect?to=http://169.254.169.254/latest/meta-data/", why: "redirect to metadata" },
  { url: "http://sink.test/redirect?to=http://[::1]/", why: "redirect to IPv6 loopback" },
  { url: "http://sink.test/redirect?to=file:///etc/passwd", why: "redirect to file:" },
  { url: "http://sink.test/redirect?to=https://engine.test/v1/api-keys", why: "redirect to the engine's own host" },
  {
    url: "http://sink.test/redirect?to=http://sink.test/redirect?to=http://10.0.0.1/",
    why: "second redirect to a private address",
  },
];
