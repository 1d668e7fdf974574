import { describe, expect, it } from "vitest";
import { Secret } from "../../../../../core/basics/secret.ts";
import { cramMd5Mechanism } from "../../../../../core/checks/sasl/cram-md5.ts";
import { loginMechanism } from "../../../../../core/checks/sasl/login.ts";
import { SaslError } from "../../../../../core/checks/sasl/mechanism.ts";
import { plainMechanism } from "../../../../../core/checks/sasl/plain.ts";
import { MAX_SCRAM_ITERATIONS, saslName, startScram } from "../../../../../core/checks/sasl/scram.ts";

const credentials = (user: string, password: string) => ({ user, password: new Secret(password) });
const text = (buffer: Buffer | undefined) => buffer?.toString("utf8");

describe("SCRAM-SHA-1, the exchange of RFC 5802 §5", () => {
  const serverFirst = "r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,s=QSXCR+Q6sek8bf92,i=4096";
  const start = () => startScram("SCRAM-SHA-1", credentials("user", "pencil"), "fyko+d2lbbFgONRv9qkxdawL");

  it("sends the RFC's client-first and client-final, and accepts its server signature", async () => {
    const exchange = start();
    expect(text(exchange.initialResponse)).toBe("n,,n=user,r=fyko+d2lbbFgONRv9qkxdawL");
    const clientFinal = await exchange.respond(Buffer.from(serverFirst));
    expect(text(clientFinal)).toBe(
      "c=biws,r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,p=v0X8v3Bz2T0CJGbJQyF0X+HI4Ts=",
    );
    const last = await exchange.respond(Buffer.from("v=rmF9pqV8S7suAoZWja4dJRkFsKQ="));
    expect(last.length).toBe(0);
    expect(() => exchange.complete()).not.toThrow();
  });

  it("refuses a server signature that does not match: auth-failed", async () => {
    const exchange = start();
    await exchange.respond(Buffer.from(serverFirst));
    const wrong = exchange.respond(Buffer.from("v=AAAApqV8S7suAoZWja4dJRkFsKQ="));
    await expect(wrong).rejects.toMatchObject({
      reason: "auth-failed",
      message: /signature \(v=\) is wrong/,
    });
  });

  it("refuses a success the server never proved (no v=)", async () => {
    const exchange = start();
    await exchange.respond(Buffer.from(serverFirst));
    expect(() => exchange.complete()).toThrow(/without sending its signature/);
  });
});

describe("SCRAM-SHA-256, the exchange of RFC 7677 §3", () => {
  it("sends the RFC's messages and accepts its server signature", async () => {
    const exchange = startScram("SCRAM-SHA-256", credentials("user", "pencil"), "rOprNGfwEbeRWgbNEkqO");
    expect(text(exchange.initialResponse)).toBe("n,,n=user,r=rOprNGfwEbeRWgbNEkqO");
    const clientFinal = await exchange.respond(
      Buffer.from("r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096"),
    );
    expect(text(clientFinal)).toBe(
      "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=",
    );
    await exchange.respond(Buffer.from("v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4="));
    expect(() => exchange.complete()).not.toThrow();
  });
});

describe("SCRAM's handling of names, passwords and hostile servers", () => {
  it("escapes = and , in the user name (RFC 5802 §5.1)", () => {
    expect(saslName("a=b,c")).toBe("a=3Db=2Cc");
    const exchange = startScram("SCRAM-SHA-256", credentials("a=b,c", "pw"), "nonce");
    expect(text(exchange.initialResponse)).toBe("n,,n=a=3Db=2Cc,r=nonce");
  });

  it("applies SASLprep to the user name and the password", async () => {
    // U+00AD (soft hyphen) maps to nothing, U+2168 (roman numeral nine) to "IX" (RFC 4013 §3).
    const exchange = startScram(
      "SCRAM-SHA-1",
      credentials("us\u00ADer", "pen\u00ADcil"),
      "fyko+d2lbbFgONRv9qkxdawL",
    );
    expect(text(exchange.initialResponse)).toBe("n,,n=user,r=fyko+d2lbbFgONRv9qkxdawL");
    const clientFinal = await exchange.respond(
      Buffer.from("r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,s=QSXCR+Q6sek8bf92,i=4096"),
    );
    expect(text(clientFinal)).toMatch(/,p=v0X8v3Bz2T0CJGbJQyF0X\+HI4Ts=$/);
  });

  it("names a password SASLprep refuses auth-unavailable, without showing it", () => {
    const attempt = () => startScram("SCRAM-SHA-256", credentials("user", "bell\u0007secret"), "n");
    expect(attempt).toThrow(SaslError);
    expect(attempt).toThrow(/password cannot be used with SCRAM/);
    try {
      attempt();
    } catch (error) {
      expect((error as SaslError).reason).toBe("auth-unavailable");
      expect((error as Error).message).not.toContain("secret");
    }
  });

  it.each([
    ["a nonce that does not extend the client's", "r=other,s=QSXCR+Q6sek8bf92,i=4096", /nonce/],
    ["the client's nonce unextended", "r=clientnonce,s=QSXCR+Q6sek8bf92,i=4096", /nonce/],
    ["no salt", "r=clientnonceX,i=4096", /no s=/],
    ["a salt that is not base64", "r=clientnonceX,s=***,i=4096", /s= is not base64/],
    ["iterations that are not a number", "r=clientnonceX,s=QSXCR+Q6sek8bf92,i=many", /iteration count/],
    [
      "iterations past the limit",
      `r=clientnonceX,s=QSXCR+Q6sek8bf92,i=${MAX_SCRAM_ITERATIONS + 1}`,
      /iteration/,
    ],
    ["a mandatory extension", "m=ext,r=clientnonceX,s=QSXCR+Q6sek8bf92,i=4096", /extension/],
    ["garbage", "hello world", /malformed/],
  ])("refuses a server-first with %s as a protocol error", async (_name, serverFirst, message) => {
    const exchange = startScram("SCRAM-SHA-256", credentials("user", "pencil"), "clientnonce");
    await expect(exchange.respond(Buffer.from(serverFirst))).rejects.toMatchObject({
      reason: "protocol-error",
      message: expect.stringMatching(message),
    });
  });

  it("reports the server's e= error as auth-failed", async () => {
    const exchange = startScram("SCRAM-SHA-256", credentials("user", "pencil"), "clientnonce");
    await exchange.respond(Buffer.from("r=clientnonceX,s=QSXCR+Q6sek8bf92,i=4096"));
    await expect(exchange.respond(Buffer.from("e=invalid-proof"))).rejects.toMatchObject({
      reason: "auth-failed",
      message: expect.stringContaining("e=invalid-proof"),
    });
  });

  it("makes a fresh random client nonce for every exchange", () => {
    const first = text(startScram("SCRAM-SHA-256", credentials("user", "pencil")).initialResponse);
    const second = text(startScram("SCRAM-SHA-256", credentials("user", "pencil")).initialResponse);
    expect(first).toMatch(/^n,,n=user,r=[A-Za-z0-9+/]{32}$/);
    expect(first).not.toBe(second);
  });
});

describe("CRAM-MD5, PLAIN and LOGIN", () => {
  it("answers the challenge of RFC 2195 §2 with its digest", async () => {
    const exchange = cramMd5Mechanism.start(credentials("tim", "tanstaaftanstaaf"));
    expect(exchange.initialResponse).toBeUndefined();
    const answer = await exchange.respond(Buffer.from("<1896.697170952@postoffice.reston.mci.net>"));
    expect(text(answer)).toBe("tim b913a602c7eda7a495b4e6e7334d3890");
    await expect(exchange.respond(Buffer.from("<again@example>"))).rejects.toMatchObject({
      reason: "protocol-error",
    });
  });

  it("PLAIN sends authzid NUL authcid NUL password at once (RFC 4616)", () => {
    const exchange = plainMechanism.start(credentials("scout", "pässword"));
    expect(text(exchange.initialResponse)).toBe("\0scout\0pässword");
  });

  it("LOGIN answers its two challenges with the user name and the password, and no third", async () => {
    const exchange = loginMechanism.start(credentials("scout", "secret"));
    expect(exchange.initialResponse).toBeUndefined();
    expect(text(await exchange.respond(Buffer.from("Username:")))).toBe("scout");
    expect(text(await exchange.respond(Buffer.from("Password:")))).toBe("secret");
    await expect(exchange.respond(Buffer.from("More:"))).rejects.toMatchObject({ reason: "protocol-error" });
  });
});
