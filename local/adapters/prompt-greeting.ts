import { SMTPConnection } from "smtp-server/lib/smtp-connection.js";

/*
 * smtp-server holds every greeting back for 100 ms to catch "early talkers" (spam bots that
 * write before the banner): a hard-coded pause in SMTPConnection.init, with no option to turn
 * it off. Our listener takes returns from other MTAs only, where that pause buys nothing and
 * adds 100 ms to every measured round trip (Postfix's log showed it as the whole of its
 * "connection setup" delay). Servers marked with `greetPromptly` greet at once; all others
 * keep the library's behaviour. The pinned smtp-server version is the one this was read
 * from; if its internals ever change shape, the original init runs and nothing breaks.
 */
const PROMPT = Symbol("email-scout.greetPromptly");

interface ConnectionInternals {
  _server: { [PROMPT]?: boolean; options: { maxClients?: number }; connections: Set<unknown> };
  _setListeners(done: () => void): void;
  connectionReady(): void;
  send(code: number, text: string, end: boolean): void;
  name: string;
}

const prototype = SMTPConnection.prototype as unknown as ConnectionInternals & { init(): void };
const originalInit = prototype.init;
const internalsPresent =
  typeof prototype._setListeners === "function" && typeof prototype.connectionReady === "function";

if (internalsPresent && !(originalInit as { [PROMPT]?: boolean })[PROMPT]) {
  const init = function (this: ConnectionInternals) {
    if (!this._server[PROMPT]) return originalInit.call(this);
    this._setListeners(() => {
      const limit = this._server.options.maxClients;
      if (limit && this._server.connections.size > limit) {
        this.send(421, `${this.name} Too many connected clients, try again in a moment`, false);
        return;
      }
      this.connectionReady();
    });
  };
  (init as { [PROMPT]?: boolean })[PROMPT] = true;
  prototype.init = init;
}

/** Makes this server greet without smtp-server's 100 ms early-talker pause. */
export function greetPromptly(server: object): boolean {
  if (!internalsPresent) return false;
  (server as { [PROMPT]?: boolean })[PROMPT] = true;
  return true;
}
