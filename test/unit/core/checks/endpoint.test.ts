import { describe, expect, it } from "vitest";
import { parseEndpointUrl } from "../../../../core/checks/endpoint.ts";

describe("parseEndpointUrl", () => {
  it.each([
    [
      "smtp://mail.example.com",
      { kind: "smtp", protocol: "smtp", port: 25, tls: "starttls", startTls: "required" },
    ],
    ["submission://mail.example.com", { kind: "submission", port: 587, tls: "starttls" }],
    ["smtps://mail.example.com", { kind: "smtps", port: 465, tls: "implicit", startTls: "off" }],
    ["imap://mail.example.com", { kind: "imap", protocol: "imap", port: 143, tls: "starttls" }],
    ["imaps://mail.example.com:10993", { kind: "imaps", port: 10993, tls: "implicit" }],
    ["pop3://mail.example.com", { kind: "pop3", protocol: "pop3", port: 110, tls: "starttls" }],
    ["pop3s://mail.example.com", { kind: "pop3s", port: 995, tls: "implicit" }],
    ["submission://host?starttls=optional", { host: "host", startTls: "optional" }],
    ["smtp://host?starttls=off", { startTls: "off" }],
    ["imaps://[::1]:993", { host: "::1", family: 6 }],
    ["smtp://127.0.0.1", { host: "127.0.0.1", family: 4 }],
    ["smtp://mx.example.com?family=6", { family: 6 }],
    ["smtps://192.0.2.1?servername=mx.example.com", { tlsServerName: "mx.example.com" }],
  ])("%s", (url, expected) => {
    expect(parseEndpointUrl(url)).toMatchObject({ url, ...expected });
  });

  it.each([
    [
      "mail.example.com",
      'endpoint "mail.example.com" is not a URL; write it like smtp://mail.example.com:25',
    ],
    [
      "http://mail.example.com",
      'endpoint "http://mail.example.com": unknown scheme "http:"; use one of smtp, submission, smtps, imap, imaps, pop3, pop3s',
    ],
    [
      "smtp://user:secret@mail.example.com",
      'endpoint "smtp://user:secret@mail.example.com": credentials do not belong in the URL (it is logged); use --user with --password-file or --password-env',
    ],
    ["smtp://mail.example.com/inbox", 'endpoint "smtp://mail.example.com/inbox": unexpected path "/inbox"'],
    [
      "smtp://mail.example.com?tls=1",
      'endpoint "smtp://mail.example.com?tls=1": unknown option "tls"; known: starttls, family, servername',
    ],
    [
      "smtp://mail.example.com?starttls=maybe",
      'endpoint "smtp://mail.example.com?starttls=maybe": starttls must be required, optional or off, not "maybe"',
    ],
    [
      "imaps://mail.example.com?starttls=optional",
      'endpoint "imaps://mail.example.com?starttls=optional": starttls does not apply to an implicit-TLS port',
    ],
    [
      "smtp://mail.example.com?family=5",
      'endpoint "smtp://mail.example.com?family=5": family must be 4, 6 or any, not "5"',
    ],
    [
      "smtp://127.0.0.1?family=6",
      'endpoint "smtp://127.0.0.1?family=6": family=6 contradicts the IPv4 address',
    ],
    [
      "smtp://mail.example.com:99999",
      'endpoint "smtp://mail.example.com:99999" is not a URL; write it like smtp://mail.example.com:25',
    ],
  ])("rejects %s", (url, message) => {
    expect(() => parseEndpointUrl(url)).toThrow(message);
  });
});
