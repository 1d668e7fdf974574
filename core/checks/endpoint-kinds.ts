/** The mail protocols Email Scout speaks, and how each endpoint kind reaches TLS. */
export type Protocol = "smtp" | "imap" | "pop3";
export type TlsMode = "implicit" | "starttls";

export interface EndpointKind {
  readonly protocol: Protocol;
  readonly defaultPort: number;
  readonly tls: TlsMode;
  readonly rfc: string;
}

/**
 * Every endpoint kind with its default port and TLS mode. Ports 465/993/995 are implicit
 * TLS (RFC 8314 recommends it for submission and access); the others upgrade with
 * STARTTLS (SMTP, RFC 3207), STARTTLS (IMAP, RFC 2595/3501) or STLS (POP3, RFC 2595).
 */
export const ENDPOINT_KINDS = {
  smtp: { protocol: "smtp", defaultPort: 25, tls: "starttls", rfc: "RFC 5321, RFC 3207" },
  submission: { protocol: "smtp", defaultPort: 587, tls: "starttls", rfc: "RFC 6409, RFC 3207" },
  smtps: { protocol: "smtp", defaultPort: 465, tls: "implicit", rfc: "RFC 8314" },
  imap: { protocol: "imap", defaultPort: 143, tls: "starttls", rfc: "RFC 3501/9051, RFC 2595" },
  imaps: { protocol: "imap", defaultPort: 993, tls: "implicit", rfc: "RFC 8314" },
  pop3: { protocol: "pop3", defaultPort: 110, tls: "starttls", rfc: "RFC 1939, RFC 2449, RFC 2595" },
  pop3s: { protocol: "pop3", defaultPort: 995, tls: "implicit", rfc: "RFC 8314" },
} as const satisfies Record<string, EndpointKind>;

export type EndpointKindName = keyof typeof ENDPOINT_KINDS;

export function isEndpointKindName(name: string): name is EndpointKindName {
  return Object.hasOwn(ENDPOINT_KINDS, name);
}
