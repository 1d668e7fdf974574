#!/usr/bin/perl
# email_return in Perl 5: answers Email Scout's round-trip probes from a ~/.forward pipe on a mail
# server without Node. scripts/build.mjs joins this file and the other parts in return/perl/
# (in its order) into the one self-contained dist/email_return.pl. It behaves exactly as
# return/email-return.ts (dist/email_return.cjs): same return.json, key ring, token and reply
# signature checks, same reply bytes, same sendmail call, exit codes and log lines;
# test/fixtures/return-corpus/ holds the cases both must pass.
#
#   "|/home/probe/.email-scout/email_return.pl --config /home/probe/.email-scout/return.json"
#
# Perl 5.10 or later, core modules only (MIME::Base64, Time::HiRes; Errno and Sys::Hostname when
# needed); return.json is read by a small JSON reader (config.pl): JSON::PP would double the
# start-up. Digest::SHA is core too, but some minimal installs split it out: then the pure-Perl
# SHA-256 of key-ring.pl is used.
# Exit 0: replied, or chose not to. Exit 75 (EX_TEMPFAIL): configuration, key or sendmail
# trouble; the MTA keeps the message and retries. Nothing is ever written to stdout or stderr:
# the MTA would put it into a bounce.
use strict;
use warnings;

my $ARRIVED_AT_MS;
BEGIN {
    # Taken first: the time the message reached this server is part of the measurement.
    require Time::HiRes;
    $ARRIVED_AT_MS = int(Time::HiRes::time() * 1000);
    # Before the rest is compiled: even a compile-time warning of some other Perl must not
    # reach stderr.
    open(STDOUT, '>', '/dev/null');
    open(STDERR, '>', '/dev/null');
    $SIG{__WARN__} = sub { };
}

use constant { EX_OK => 0, EX_TEMPFAIL => 75, SENDMAIL_TIMEOUT_MS => 60_000 };
use constant MAX_FUTURE_SKEW_MS => 10 * 60_000;
use constant STDERR_KEPT => 500;
use constant STDERR_LIMIT_BYTES => 1024 * 1024;

# JavaScript's \s within latin1 (each input byte is one character, as in core/wire/parse-headers.ts).
my $WS = qr/[\t\n\x0b\f\r \xa0]/;
my $KEY_ID = qr/\A[A-Za-z0-9_-]{1,32}\z/;
my $PROBE_ID = qr/\A[A-Za-z0-9_-]{16,32}\z/;
my $LEGACY_KEY_ID = 'v1';

my $log_file;

$SIG{PIPE} = 'IGNORE';


sub run {
    my $config_path = config_path_from(@ARGV);
    return EX_TEMPFAIL unless defined $config_path;
    my $config = eval { load_config($config_path) };
    if (!$config) {
        my $error = $@;
        $log_file = $error->{log_file} if ref $error eq 'HASH';
        log_entry({ decision => 'tempfail', reason => 'bad-config', detail => error_text($error) });
        return EX_TEMPFAIL;
    }
    $log_file = $config->{logFile};

    my $keys = eval { read_probe_key_file($config->{keyFile}) };
    if (!$keys) {
        log_entry({ decision => 'tempfail', reason => 'bad-key-file', detail => error_text($@) });
        return EX_TEMPFAIL;
    }

    my ($data, $truncated) = read_bounded_stdin($config->{maxBytes});
    my $message = parse_message($data);
    my $message_id = header_value($message->{fields}, 'Message-ID');
    my $decision = decide($message, envelope_sender_of($message), $keys, $config->{maxAgeSeconds} * 1000);
    if ($decision->{action} eq 'ignore') {
        log_entry({ decision => 'ignored', %$decision, message_id => $message_id });
        return EX_OK;
    }

    my $host = hostname_of_server();
    my $reply = compose_reply({
        return_to => $config->{returnTo},
        from => reply_from_address($config->{from}, $message, $host),
        token => $decision->{token},
        message => $message,
        key => $decision->{key},
        header_block_cut => $truncated && !$message->{complete},
        hostname => $host,
        unique_id => 'scout-return.' . b64url(random_bytes(12)),
    });
    my $failure = send_with_sendmail($config->{sendmail}, $config->{returnTo}, $reply);
    my $probe_id = $decision->{token}{probe_id};
    if (defined $failure) {
        log_entry({ decision => 'tempfail', reason => 'sendmail-failed', probe_id => $probe_id,
            message_id => $message_id, detail => $failure });
        return EX_TEMPFAIL;
    }
    log_entry({ decision => 'replied', reason => 'valid-probe', probe_id => $probe_id, message_id => $message_id });
    return EX_OK;
}

# `--config <path>` or `--config=<path>`, and nothing else.
sub config_path_from {
    my @args = @_;
    return $args[1] if @args == 2 && $args[0] eq '--config';
    return substr($args[0], length '--config=') if @args == 1 && index($args[0], '--config=') == 0;
    return undef;
}

sub error_text {
    my ($error) = @_;
    return $error->{message} if ref $error eq 'HASH';
    my $text = "$error";
    $text =~ s/\n\z//;
    return $text;
}
