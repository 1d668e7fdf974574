/** The seven services of the demo mail host and how each tool checks them. */

export const PLUGIN_DIR = "/usr/lib/nagios/plugins";
export const HOST = "127.0.0.1";

export interface PluginCommand {
  /** Plugin name under PLUGIN_DIR (check_ssmtp etc. are symlinks to check_tcp, which reads argv[0]). */
  readonly plugin: string;
  readonly args: readonly string[];
  readonly note: string;
  /** Run once before timing to confirm a certificate check that prints no time of its own. */
  readonly certCheckArgs?: readonly string[];
}

export interface Service {
  readonly name: string;
  readonly port: number;
  /** Endpoint URL for our checker. */
  readonly url: string;
  readonly plugin: PluginCommand;
  /** blackbox_exporter module (see peers/blackbox.ts). */
  readonly module: string;
  /**
   * When the plugin cannot do TLS here (it reads the banner only): our check doing that same
   * work (no STARTTLS), to compare like with like.
   */
  readonly plainUrl?: string;
}

const CERT = ["-D", "30,14"];

export const SERVICES: readonly Service[] = [
  {
    name: "smtp",
    port: 25,
    url: `smtp://${HOST}:25`,
    plugin: {
      plugin: "check_smtp",
      args: ["-H", HOST, "-p", "25", "-S"],
      certCheckArgs: ["-H", HOST, "-p", "25", "-S", ...CERT],
      note: "check_smtp -S (STARTTLS, EHLO, QUIT); with -D it reports no time, so -D ran once apart",
    },
    module: "smtp_starttls",
  },
  {
    name: "submission",
    port: 587,
    url: `submission://${HOST}:587`,
    plugin: {
      plugin: "check_smtp",
      args: ["-H", HOST, "-p", "587", "-S"],
      certCheckArgs: ["-H", HOST, "-p", "587", "-S", ...CERT],
      note: "check_smtp -S (STARTTLS, EHLO, QUIT); with -D it reports no time, so -D ran once apart",
    },
    module: "smtp_starttls",
  },
  {
    name: "smtps",
    port: 465,
    url: `smtps://${HOST}:465`,
    plugin: {
      plugin: "check_ssmtp",
      args: ["-H", HOST, "-p", "465", ...CERT],
      note: "check_ssmtp -D (check_tcp: TLS, banner, QUIT; expiry only, chain not verified)",
    },
    module: "smtps",
  },
  {
    name: "imap",
    port: 143,
    url: `imap://${HOST}:143`,
    plainUrl: `imap://${HOST}:143?starttls=off`,
    plugin: {
      plugin: "check_imap",
      args: ["-H", HOST, "-p", "143"],
      note: "check_imap: banner only, NO STARTTLS/TLS (it cannot)",
    },
    module: "imap_starttls",
  },
  {
    name: "imaps",
    port: 993,
    url: `imaps://${HOST}:993`,
    plugin: {
      plugin: "check_simap",
      args: ["-H", HOST, "-p", "993", ...CERT],
      note: "check_simap -D (TLS, banner; expiry only, chain not verified)",
    },
    module: "imaps",
  },
  {
    name: "pop3",
    port: 110,
    url: `pop3://${HOST}:110`,
    plainUrl: `pop3://${HOST}:110?starttls=off`,
    plugin: {
      plugin: "check_pop",
      args: ["-H", HOST, "-p", "110"],
      note: "check_pop: banner only, NO STLS/TLS (it cannot)",
    },
    module: "pop3_starttls",
  },
  {
    name: "pop3s",
    port: 995,
    url: `pop3s://${HOST}:995`,
    plugin: {
      plugin: "check_spop",
      args: ["-H", HOST, "-p", "995", ...CERT],
      note: "check_spop -D (TLS, banner; expiry only, chain not verified)",
    },
    module: "pop3s",
  },
];
