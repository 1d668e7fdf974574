#!/usr/bin/perl
# email_return in Perl 5: answers Email Scout's round-trip probes from a ~/.forward pipe on a mail
# server without Node. It behaves exactly as return/email-return.ts (dist/email_return.cjs): same
# return.json, key ring, token and reply signature checks, same reply bytes, same sendmail call,
# exit codes and log lines; test/fixtures/return-corpus/ holds the cases both must pass.
#
#   "|/home/probe/.email-scout/email_return.pl --config /home/probe/.email-scout/return.json"
#
# Core modules only (MIME::Base64, Time::HiRes; Errno and Sys::Hostname when needed); return.json
# is read by a small JSON reader below, JSON::PP would double the start-up. Digest::SHA is core
# too, but some minimal installs split it out: then a pure-Perl SHA-256 below is used.
# Exit 0: replied, or chose not to. Exit 75 (EX_TEMPFAIL): configuration, key or sendmail
# trouble; the MTA keeps the message and retries. Nothing is ever written to stdout or stderr:
# the MTA would put it into a bounce.
use strict;
use warnings;
use Time::HiRes ();

# Taken first: the time the message reached this server is part of the measurement.
my $ARRIVED_AT_MS = int(Time::HiRes::time() * 1000);

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

open(STDOUT, '>', '/dev/null');
open(STDERR, '>', '/dev/null');
$SIG{__WARN__} = sub { };
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

# ---- configuration (return/config.ts) ----

sub config_error { die { message => join('; ', @{ $_[0] }), log_file => $_[1] } }

# Values of the configuration are [type, value] pairs from parse_json: JSON's types, as Node sees them.
sub is_string { $_[0][0] eq 'string' }
sub is_absolute_path { is_string($_[0]) && $_[0][1] =~ m{\A/} && $_[0][1] !~ /[\0\r\n]/ }
sub integer_in {
    my ($min, $max) = @_;
    return sub { $_[0][0] eq 'number' && $_[0][1] == int($_[0][1]) && $_[0][1] >= $min && $_[0][1] <= $max };
}

my @RULES = (
    [returnTo => sub { is_string($_[0]) && is_plain_address($_[0][1]) }, 1, 'a plain address like returns@example.com'],
    [keyFile => \&is_absolute_path, 1, 'an absolute path'],
    [sendmail => \&is_absolute_path, 0, 'an absolute path'],
    [maxBytes => integer_in(4096, 64 * 1024 * 1024), 0, 'an integer from 4096 to 67108864'],
    [maxAgeSeconds => integer_in(60, 30 * 86400), 0, 'an integer from 60 to 2592000'],
    [logFile => \&is_absolute_path, 0, 'an absolute path'],
    [from => sub { is_string($_[0]) && is_plain_address($_[0][1]) }, 0, 'a plain address like probe@example.com'],
);

sub load_config {
    my ($path) = @_;
    my $text;
    if (open(my $fh, '<:raw', $path)) {
        local $/;
        $text = <$fh>;
        if (!defined $text) { config_error(["cannot read $path: " . errno_name()]) }
        close $fh;
    } else {
        config_error(["cannot read $path: " . errno_name()]);
    }
    my $parsed = eval { parse_json($text) };
    config_error(["$path is not valid JSON: " . error_text($@)]) unless $parsed;
    if ($parsed->[0] ne 'object') { config_error(["$path: the configuration must be a JSON object"]) }
    my ($order, $value) = @{ $parsed->[1] };
    my %known = map { ($_->[0], 1) } @RULES;
    my @problems = map { "unknown key \"$_\"" } grep { !$known{$_} } @$order;
    for my $rule (@RULES) {
        my ($key, $check, $required, $expected) = @$rule;
        if (!exists $value->{$key}) {
            push @problems, "\"$key\" is required" if $required;
        } elsif (!$check->($value->{$key})) {
            push @problems, "\"$key\" must be $expected";
        }
    }
    if (@problems) {
        my $log = exists $value->{logFile} && is_absolute_path($value->{logFile}) ? $value->{logFile}[1] : undef;
        config_error([map { "$path: $_" } @problems], $log);
    }
    return { sendmail => '/usr/sbin/sendmail', maxBytes => 1024 * 1024, maxAgeSeconds => 86400,
        map { ($_, $value->{$_}[1]) } keys %$value };
}

# JSON as JSON.parse reads it (RFC 8259), each value a [type, value] pair and an object
# [object, [keys in first-seen order, {key => pair}]]: JSON::PP would cost ~20 ms of start-up.
sub parse_json {
    local $_ = $_[0];
    pos($_) = 0;
    my $value = json_value();
    /\G[ \t\n\r]*/gc;
    json_fail() if pos($_) < length $_;
    return $value;
}

sub json_fail {
    my $at = pos($_) // 0;
    die $at >= length $_ ? "unexpected end of JSON input\n" : "unexpected character at position $at\n";
}

sub json_value {
    /\G[ \t\n\r]*/gc;
    if (/\G\{/gc) {
        my (@order, %values);
        /\G[ \t\n\r]*/gc;
        return ['object', [\@order, \%values]] if /\G\}/gc;
        for (;;) {
            /\G[ \t\n\r]*/gc;
            json_fail() unless /\G"/gc;
            my $key = json_string_rest();
            json_fail() unless /\G[ \t\n\r]*:/gc;
            my $item = json_value();
            push @order, $key unless exists $values{$key};
            $values{$key} = $item;
            /\G[ \t\n\r]*/gc;
            next if /\G,/gc;
            last if /\G\}/gc;
            json_fail();
        }
        return ['object', [\@order, \%values]];
    }
    if (/\G\[/gc) {
        /\G[ \t\n\r]*/gc;
        return ['array'] if /\G\]/gc;
        for (;;) {
            json_value();
            /\G[ \t\n\r]*/gc;
            next if /\G,/gc;
            last if /\G\]/gc;
            json_fail();
        }
        return ['array'];
    }
    return ['string', json_string_rest()] if /\G"/gc;
    return ['number', $1 + 0] if /\G(-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?)/gc;
    return ['boolean'] if /\G(?:true|false)/gc;
    return ['null'] if /\Gnull/gc;
    json_fail();
}

my %JSON_ESCAPE = ('"' => '"', '\\' => '\\', '/' => '/', b => "\b", f => "\f", n => "\n", r => "\r", t => "\t");

# The rest of a string after its opening quote; \u escapes become UTF-8, like the file's bytes.
sub json_string_rest {
    my $out = '';
    for (;;) {
        if (/\G([^"\\\x00-\x1f]+)/gc) { $out .= $1; next }
        return $out if /\G"/gc;
        if (/\G\\(["\\\/bfnrt])/gc) { $out .= $JSON_ESCAPE{$1}; next }
        if (/\G\\u([0-9a-fA-F]{4})/gc) {
            my $code = hex $1;
            if ($code >= 0xd800 && $code <= 0xdbff && /\G\\u([dD][c-fC-F][0-9a-fA-F]{2})/gc) {
                $code = 0x10000 + (($code - 0xd800) << 10) + (hex($1) - 0xdc00);
            }
            my $char = chr $code;
            utf8::encode($char);
            $out .= $char;
            next;
        }
        json_fail();
    }
}

# The name of $!, e.g. ENOENT (Node's error.code). Errno is loaded only when needed: %! would
# load it at every start.
sub errno_name {
    my $number = $! + 0;
    require Errno;
    for my $name (@Errno::EXPORT_OK) {
        my $value = eval { Errno->can($name)->() };
        return $name if defined $value && $value == $number;
    }
    return "errno $number";
}

# ---- addresses (return/address.ts) ----

my $ATOM = qr{[A-Za-z0-9!#\$%&'*+/=?^_`{|}~-]+};
my $LABEL = qr{[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?};
sub is_plain_address {
    my ($text) = @_;
    return length($text) <= 254 && $text =~ /\A(?!-)$ATOM(?:\.$ATOM)*\@$LABEL(?:\.$LABEL)*\z/ ? 1 : 0;
}

sub first_address_in {
    my ($value) = @_;
    my @candidates = $value =~ /<([^<>\s\xa0]+)>/ ? ($1) : split(/(?:$WS|[,;])+/, $value);
    for (@candidates) { return $_ if is_plain_address($_) }
    return undef;
}

# ---- the key ring (core/wire/secret-file.ts, probe-key-file.ts, probe-key.ts) ----

sub read_probe_key_file {
    my ($path) = @_;
    my $what = 'probe key file';
    my $fh;
    if (!open($fh, '<:raw', $path)) {
        my $name = errno_name();
        die "$what $path does not exist\n" if $name eq 'ENOENT';
        die "$what $path cannot be opened ($name)\n";
    }
    # stat on the open handle: the file checked is the file read.
    my @stat = stat($fh);
    die "$what $path is not a regular file\n" unless -f _;
    my $mode = $stat[2];
    if ($mode & 077) {
        my $octal = sprintf('%04o', $mode & 0777);
        die "$what $path has mode $octal: group or others may read it; run: chmod 600 $path\n";
    }
    local $/;
    my $text = <$fh>;
    if (!defined $text) { my $name = errno_name(); die "$what $path cannot be read ($name)\n" }
    close $fh;
    my $ring = eval { parse_probe_key_ring($text) };
    die "$what $path: " . error_text($@) . "\n" unless $ring;
    return $ring;
}

sub parse_probe_key_ring {
    my ($text) = @_;
    my @keys;
    my $number = 0;
    for my $raw (split /\r?\n/, $text, -1) {
        $number += 1;
        (my $line = $raw) =~ s/\A$WS+|$WS+\z//g;
        next if $line eq '' || substr($line, 0, 1) eq '#';
        my $entry = parse_key_line($line, $number);
        die "line $number: key id $entry->{id} appears twice\n" if grep { $_->{id} eq $entry->{id} } @keys;
        push @keys, $entry;
    }
    die "probe key file has no key line (expected scout-key-v2:<keyId>:<key>)\n" unless @keys;
    return \@keys;
}

sub parse_key_line {
    my ($line, $number) = @_;
    my $where = "line $number";
    if (index($line, 'scout-key-v1:') == 0) {
        return { id => $LEGACY_KEY_ID, key => decode_key(substr($line, 13), $where) };
    }
    if (index($line, 'scout-key-v2:') != 0) {
        die "$where: a probe key line must start with scout-key-v2: (or scout-key-v1:)\n";
    }
    my $rest = substr($line, 13);
    my $colon = index($rest, ':');
    my $id = $colon < 0 ? '' : substr($rest, 0, $colon);
    if ($id !~ $KEY_ID) {
        die "$where: expected scout-key-v2:<keyId>:<key>, the key id 1-32 characters of A-Z a-z 0-9 - _\n";
    }
    return { id => $id, key => decode_key(substr($rest, $colon + 1), $where) };
}

sub decode_key {
    my ($encoded, $where) = @_;
    my $key = decode_canonical($encoded);
    die "$where: the probe key is not base64url (A-Z a-z 0-9 - _, no padding)\n" unless defined $key;
    my $length = length $key;
    die "$where: the probe key is $length bytes, at least 32 are needed\n" if $length < 32;
    return $key;
}

# ---- base64url, SHA-256, HMAC ----

sub b64url {
    require MIME::Base64;
    my $text = MIME::Base64::encode_base64($_[0], '');
    $text =~ tr{+/}{-_};
    $text =~ s/=+\z//;
    return $text;
}

# base64url without padding, and only the one spelling that encodes back to itself.
sub decode_canonical {
    my ($text) = @_;
    return undef unless $text =~ /\A[A-Za-z0-9_-]+\z/;
    (my $standard = $text) =~ tr{-_}{+/};
    require MIME::Base64;
    my $bytes = MIME::Base64::decode_base64($standard);
    return b64url($bytes) eq $text ? $bytes : undef;
}

my $sha256 = eval { require Digest::SHA; \&Digest::SHA::sha256 } || \&pure_sha256;

sub hmac_sha256 {
    my ($key, $data) = @_;
    $key = $sha256->($key) if length $key > 64;
    $key .= "\0" x (64 - length $key);
    return $sha256->(($key ^ ("\x5c" x 64)) . $sha256->(($key ^ ("\x36" x 64)) . $data));
}

# FIPS 180-4 SHA-256, for a Perl whose Digest::SHA was split out of the base install.
sub pure_sha256 {
    my ($message) = @_;
    my @k = (
        0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
        0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
        0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
        0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
        0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
        0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
        0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
        0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
    );
    my @h = (0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19);
    my $bits = length($message) * 8;
    $message .= "\x80";
    $message .= "\0" x ((56 - length($message) % 64) % 64);
    $message .= pack('NN', int($bits / 4294967296), $bits % 4294967296);
    my $M = 0xffffffff;
    my $rotr = sub { (($_[0] >> $_[1]) | ($_[0] << (32 - $_[1]))) & $M };
    for (my $at = 0; $at < length $message; $at += 64) {
        my @w = unpack('N16', substr($message, $at, 64));
        for my $t (16 .. 63) {
            my ($x, $y) = ($w[$t - 15], $w[$t - 2]);
            my $s0 = $rotr->($x, 7) ^ $rotr->($x, 18) ^ ($x >> 3);
            my $s1 = $rotr->($y, 17) ^ $rotr->($y, 19) ^ ($y >> 10);
            $w[$t] = ($w[$t - 16] + $s0 + $w[$t - 7] + $s1) & $M;
        }
        my ($a, $b, $c, $d, $e, $f, $g, $hh) = @h;
        for my $t (0 .. 63) {
            my $S1 = $rotr->($e, 6) ^ $rotr->($e, 11) ^ $rotr->($e, 25);
            my $ch = ($e & $f) ^ (~$e & $M & $g);
            my $t1 = ($hh + $S1 + $ch + $k[$t] + $w[$t]) & $M;
            my $S0 = $rotr->($a, 2) ^ $rotr->($a, 13) ^ $rotr->($a, 22);
            my $maj = ($a & $b) ^ ($a & $c) ^ ($b & $c);
            my $t2 = ($S0 + $maj) & $M;
            ($hh, $g, $f, $e, $d, $c, $b, $a) = ($g, $f, $e, ($d + $t1) & $M, $c, $b, $a, ($t1 + $t2) & $M);
        }
        my @add = ($a, $b, $c, $d, $e, $f, $g, $hh);
        $h[$_] = ($h[$_] + $add[$_]) & $M for 0 .. 7;
    }
    return pack('N8', @h);
}

sub same_bytes {
    my ($x, $y) = @_;
    return 0 unless length $x == length $y;
    my $difference = 0;
    $difference |= ord(substr($x, $_, 1)) ^ ord(substr($y, $_, 1)) for 0 .. length($x) - 1;
    return $difference == 0;
}

# ---- standard input, bounded (return/read-bounded.ts) ----

sub read_bounded_stdin {
    my ($max_bytes) = @_;
    my ($kept, $total) = ('', 0);
    for (;;) {
        my $read = sysread(STDIN, my $chunk, 65536);
        if (!defined $read) {
            my $why = errno_name();
            next if $why eq 'EINTR';
            # No standard input at all (a closed fd 0): an empty message, which decide() ignores.
            last if $why eq 'EBADF';
            if ($why eq 'EAGAIN') { select(undef, undef, undef, 0.01); next }
            die "cannot read standard input: $why\n";
        }
        last if $read == 0;
        $total += $read;
        $kept .= substr($chunk, 0, $max_bytes - length $kept) if length $kept < $max_bytes;
    }
    return ($kept, $total > length $kept);
}

# ---- the header block (core/wire/parse-headers.ts) ----

sub parse_message {
    my ($data) = @_;
    # Lines are taken one at a time up to the blank line: splitting a 1 MB body into lines
    # would cost tens of MB, and the body is never looked at.
    my ($pos, $size) = (0, length $data);
    my $next_line = sub {
        my $end = index($data, "\n", $pos);
        if ($end < 0) { my $line = substr($data, $pos); $pos = $size + 1; return ($line, 1) }
        my $line = substr($data, $pos, $end - $pos);
        $pos = $end + 1;
        return ($line, 0);
    };
    my $message = { header_lines => [], fields => [], complete => 0 };
    my ($line, $last) = $next_line->();
    if (index($line, 'From ') == 0) {
        ($message->{mbox_sender}) = $line =~ /\AFrom ((?:(?!$WS).)*)/s;
        return finish_fields($message) if $last;
        ($line, $last) = $next_line->();
    }
    for (;;) {
        $line =~ s/\r\z//;
        if ($line eq '') {
            # A trailing "" after the last "\n" of an input cut inside the headers is not the end.
            $message->{complete} = 1 unless $last;
            last;
        }
        push @{ $message->{header_lines} }, $line;
        if ($line =~ /\A[ \t]/) {
            # Unfolding (RFC 5322 §2.2.3): the line break goes, the whitespace stays.
            $message->{fields}[-1]{value} .= $line if @{ $message->{fields} };
        } elsif ($line =~ /\A([!-9;-~]+)[ \t]*:(.*)\z/s) {
            push @{ $message->{fields} }, { name => $1, value => $2 };
        }
        last if $last;
        ($line, $last) = $next_line->();
    }
    return finish_fields($message);
}

sub finish_fields {
    my ($message) = @_;
    $_->{value} = js_trim($_->{value}) for @{ $message->{fields} };
    return $message;
}

sub js_trim { my ($text) = @_; $text =~ s/\A$WS+|$WS+\z//g; return $text }

sub header_value {
    my ($fields, $name) = @_;
    for (@$fields) { return $_->{value} if lc($_->{name}) eq lc($name) }
    return undef;
}

# ---- whether to answer (return/decide.ts) ----

sub envelope_sender_of {
    my ($message) = @_;
    my $raw = $ENV{SENDER} // $message->{mbox_sender} // header_value($message->{fields}, 'Return-Path');
    return undef unless defined $raw;
    $raw = js_trim($raw);
    $raw =~ s/\A<(.*)>\z/$1/;
    return $raw;
}

sub decide {
    my ($message, $sender, $keys, $max_age_ms) = @_;
    my $fields = $message->{fields};
    if (defined $sender) {
        return { action => 'ignore', reason => 'null-sender' } if $sender eq '';
        (my $local = $sender) =~ s/\@[^@]*\z//;
        $local = lc $local;
        return { action => 'ignore', reason => 'mailer-daemon', detail => $sender } if $local eq 'mailer-daemon';
        if ($local =~ /\Aowner-/ || $local =~ /-owner\z/ || $local =~ /-request\z/) {
            return { action => 'ignore', reason => 'list-admin-sender', detail => $sender };
        }
    }
    my $auto = header_value($fields, 'Auto-Submitted');
    if (defined $auto) {
        my ($keyword) = split /[;(]/, $auto, 2;
        $keyword = js_lc(js_trim($keyword // ''));
        if ($keyword ne 'no' && $keyword ne 'auto-generated') {
            return { action => 'ignore', reason => 'auto-submitted', detail => $keyword };
        }
    }
    for my $name ('List-Id', 'List-Unsubscribe', 'List-Post') {
        return { action => 'ignore', reason => 'list-mail', detail => $name } if defined header_value($fields, $name);
    }
    my $precedence = header_value($fields, 'Precedence');
    if (defined $precedence) {
        $precedence = js_lc(js_trim($precedence));
        if ($precedence eq 'bulk' || $precedence eq 'list' || $precedence eq 'junk') {
            return { action => 'ignore', reason => 'bulk-precedence', detail => $precedence };
        }
    }
    my $text = header_value($fields, 'X-Scout-Probe');
    return { action => 'ignore', reason => 'not-a-probe' } unless defined $text;
    my $parsed = eval { parse_token($text) };
    if (!$parsed) {
        return { action => 'ignore', reason => "token-$@->{reason}", detail => $@->{message} };
    }
    my $verified = eval { verify_token_with_ring($parsed, $keys, $max_age_ms) };
    if (!$verified) {
        return { action => 'ignore', reason => "token-$@->{reason}", detail => $@->{message},
            probe_id => $parsed->{probe_id} };
    }
    return { action => 'reply', token => $parsed, key => $verified };
}

# toLowerCase of a latin1 string: ASCII and the latin1 letters (never the multiplication sign).
sub js_lc { my ($text) = @_; $text =~ tr/A-Z\xc0-\xd6\xd8-\xde/a-z\xe0-\xf6\xf8-\xfe/; return $text }

# ---- the probe token (core/wire/probe-token.ts) ----

sub token_error { die { reason => $_[0], message => $_[1] } }
sub malformed { token_error('malformed', "malformed probe token: $_[0]") }

sub parse_token {
    my ($text) = @_;
    malformed('not a string of reasonable length') if length $text > 1024;
    (my $token = $text) =~ s/[\r\n\t ]//g;
    my @parts = split /\./, $token, -1;
    @parts = ('') unless @parts;
    my $version = $parts[0];
    if ($version ne 'v1' && $version ne 'v2') {
        token_error('unsupported-version', "probe token version $version is not supported") if $version =~ /\Av[0-9]+\z/;
        malformed('does not start with a version');
    }
    my $expected = $version eq 'v1' ? 5 : 6;
    malformed("has " . scalar(@parts) . " fields, expected $expected") if @parts != $expected;
    my $key_id = $version eq 'v1' ? $LEGACY_KEY_ID : $parts[1];
    my ($probe_id, $target, $sent_at, $mac) = @parts[($version eq 'v1' ? 1 : 2) .. $#parts];
    malformed('bad key id') if $key_id !~ $KEY_ID;
    malformed('bad probe id') if $probe_id !~ $PROBE_ID;
    my $target_bytes = decode_canonical($target);
    malformed('bad target id') if !defined $target_bytes || length $target_bytes == 0 || length $target_bytes > 64;
    malformed('target id is not UTF-8') unless is_utf8_bytes($target_bytes);
    malformed('bad send time') if $sent_at !~ /\A(?:0|[1-9][0-9]{0,15})\z/ || $sent_at > 9007199254740991;
    my $mac_bytes = decode_canonical($mac);
    malformed('bad MAC field') if !defined $mac_bytes || length $mac_bytes != 32;
    return { key_id => $key_id, probe_id => $probe_id, sent_at_ms => $sent_at + 0, token => $token,
        signed => join('.', @parts[0 .. $#parts - 1]), mac => $mac_bytes };
}

# What a fatal TextDecoder accepts: well-formed UTF-8, no surrogates, nothing above U+10FFFF.
sub is_utf8_bytes {
    return $_[0] =~ /\A(?:[\x00-\x7f]|[\xc2-\xdf][\x80-\xbf]|\xe0[\xa0-\xbf][\x80-\xbf]
        |[\xe1-\xec\xee\xef][\x80-\xbf]{2}|\xed[\x80-\x9f][\x80-\xbf]|\xf0[\x90-\xbf][\x80-\xbf]{2}
        |[\xf1-\xf3][\x80-\xbf]{3}|\xf4[\x80-\x8f][\x80-\xbf]{2})*\z/x;
}

# The ring's key the token names, once its MAC and send time are checked.
sub verify_token_with_ring {
    my ($parsed, $keys, $max_age_ms) = @_;
    my ($key) = grep { $_->{id} eq $parsed->{key_id} } @$keys;
    token_error('unknown-key', "probe token names key $parsed->{key_id}, which this key file does not hold")
        unless $key;
    # The MAC comes before the clock checks: a forged token is 'bad-signature', whatever its age.
    token_error('bad-signature', 'probe token signature does not match')
        unless same_bytes(hmac_sha256($key->{key}, $parsed->{signed}), $parsed->{mac});
    my $age = $ARRIVED_AT_MS - $parsed->{sent_at_ms};
    token_error('expired', "probe token is $age ms old (limit $max_age_ms ms)") if $age > $max_age_ms;
    token_error('from-future', sprintf('probe token is %d ms in the future (limit %d ms)', -$age, MAX_FUTURE_SKEW_MS))
        if -$age > MAX_FUTURE_SKEW_MS;
    return $key;
}

# ---- the reply (return/compose-reply.ts, core/wire/header-block.ts, reply-signature.ts) ----

sub compose_reply {
    my ($in) = @_;
    my $message = $in->{message};
    my ($probe_message_id) = (header_value($message->{fields}, 'Message-ID') // '') =~ /(<[!-;=?-~]{1,900}>)/;
    my @reported = map { to_ascii($_) } @{ $message->{header_lines} };
    my @headers = (
        "From: $in->{from}",
        "To: <$in->{return_to}>",
        'Subject: ' . reply_subject(header_value($message->{fields}, 'Subject')),
        'Date: ' . rfc5322_date(time),
        "Message-ID: <$in->{unique_id}\@" . safe_hostname($in->{hostname}) . '>',
        (defined $probe_message_id ? ("In-Reply-To: $probe_message_id", "References: $probe_message_id") : ()),
        # RFC 3834 §5: marks this as an automatic reply, so no responder answers it in turn.
        'Auto-Submitted: auto-replied',
        "X-Scout-Probe: $in->{token}{token}",
        "X-Scout-Arrived: $ARRIVED_AT_MS",
        'X-Scout-Return-Version: 2',
        'X-Scout-Reply: ' . sign_reply($in->{token}{probe_id}, \@reported, $in->{key}),
        ($in->{header_block_cut} ? ('X-Scout-Header-Truncated: yes') : ()),
        'MIME-Version: 1.0',
        'Content-Type: text/plain; charset=us-ascii',
        'Content-Transfer-Encoding: 7bit',
    );
    my @body = (
        "Automatic reply from Email Scout's email_return to a monitoring probe; the probe's headers follow.",
        '',
        encode_header_block(@reported),
    );
    return join("\n", @headers, '', @body) . "\n";
}

sub sign_reply {
    my ($probe_id, $lines, $key) = @_;
    my $facts = "$probe_id.$ARRIVED_AT_MS." . b64url($sha256->(join("\n", @$lines)));
    my $fields = $key->{id} eq $LEGACY_KEY_ID ? "v2.$facts" : "v3.$key->{id}.$facts";
    return "$fields." . b64url(hmac_sha256($key->{key}, "scout-reply.$fields"));
}

sub encode_header_block {
    my @out = ('----- probe header block -----');
    for my $line (@_) {
        my $escaped = $line =~ /\A(?:\\|-----)/ ? "\\$line" : $line;
        push @out, substr($escaped, 0, 900);
        for (my $at = 900; $at < length $escaped; $at += 900) { push @out, '\\+' . substr($escaped, $at, 900) }
    }
    push @out, '----- end -----';
    return @out;
}

sub to_ascii { my ($line) = @_; $line =~ s/[^\t\x20-\x7e]/?/g; return $line }

sub reply_subject {
    my $clean = to_ascii($_[0] // '');
    $clean =~ s/\s+/ /g;
    $clean = substr(js_trim($clean), 0, 200);
    return $clean if $clean =~ /\Are:/i;
    (my $subject = "Re: $clean") =~ s/$WS+\z//;
    return $subject;
}

sub reply_from_address {
    my ($configured, $message, $host) = @_;
    my $user = $ENV{USER} // $ENV{LOGNAME};
    my @candidates = (
        $configured,
        (defined $user && defined $ENV{DOMAIN} ? "$user\@$ENV{DOMAIN}" : undef),
        first_address_in(header_value($message->{fields}, 'To') // ''),
        ($user // 'email-return') . '@' . safe_hostname($host),
    );
    for (@candidates) { return $_ if defined $_ && is_plain_address($_) }
    return 'email-return@localhost';
}

sub safe_hostname { $_[0] =~ /\A[A-Za-z0-9.-]{1,253}\z/ ? $_[0] : 'localhost' }

# uname's node name, as Node's os.hostname(): Linux shows it in /proc, saving Sys::Hostname's load.
sub hostname_of_server {
    if (open(my $fh, '<', '/proc/sys/kernel/hostname')) {
        my $name = <$fh>;
        if (defined $name) { chomp $name; return $name if $name ne '' }
    }
    my $name = eval { require Sys::Hostname; Sys::Hostname::hostname() };
    return defined $name ? $name : '';
}

sub rfc5322_date {
    my @t = gmtime($_[0]);
    return sprintf('%s, %02d %s %04d %02d:%02d:%02d +0000', (qw(Sun Mon Tue Wed Thu Fri Sat))[$t[6]], $t[3],
        (qw(Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec))[$t[4]], $t[5] + 1900, $t[2], $t[1], $t[0]);
}

sub random_bytes {
    my ($count) = @_;
    if (open(my $fh, '<:raw', '/dev/urandom')) {
        my $got = read($fh, my $bytes, $count);
        return $bytes if defined $got && $got == $count;
    }
    return join '', map { chr int rand 256 } 1 .. $count;
}

# ---- sendmail (return/sendmail.ts): `sendmail -oi -- <recipient>`, undef when it took the reply ----

sub send_with_sendmail {
    my ($sendmail, $recipient, $reply) = @_;
    pipe(my $stdin_read, my $stdin_write) or return 'cannot run sendmail: ' . errno_name();
    pipe(my $stderr_read, my $stderr_write) or return 'cannot run sendmail: ' . errno_name();
    # Close-on-exec (Perl's default above fd 2): it reports a failed exec's errno, or closes empty.
    pipe(my $exec_read, my $exec_write) or return 'cannot run sendmail: ' . errno_name();
    my $pid = fork();
    return 'cannot run sendmail: ' . errno_name() unless defined $pid;
    if ($pid == 0) {
        open(STDIN, '<&', $stdin_read);
        open(STDOUT, '>', '/dev/null');
        open(STDERR, '>&', $stderr_write);
        { no warnings 'exec'; exec { $sendmail } $sendmail, '-oi', '--', $recipient; }
        syswrite($exec_write, errno_name());
        require POSIX;
        POSIX::_exit(127);
    }
    close $_ for $stdin_read, $stderr_write, $exec_write;
    my $exec_error = do { local $/; <$exec_read> };
    close $exec_read;
    if (defined $exec_error && $exec_error ne '') {
        waitpid($pid, 0);
        return "cannot run $sendmail: $exec_error";
    }
    my $deadline = Time::HiRes::time() + SENDMAIL_TIMEOUT_MS / 1000;
    my ($written, $stderr, $stderr_total, $stopped) = (0, '', 0, undef);
    my $writing = 1;
    while (1) {
        my ($rin, $win) = ('', '');
        vec($rin, fileno($stderr_read), 1) = 1;
        vec($win, fileno($stdin_write), 1) = 1 if $writing;
        my $left = $deadline - Time::HiRes::time();
        if ($left <= 0) { $stopped = 'timeout'; last }
        my $ready = select(my $rout = $rin, my $wout = $win, undef, $left);
        next if $ready < 0;
        if ($writing && vec($wout, fileno($stdin_write), 1)) {
            my $count = syswrite($stdin_write, $reply, 65536, $written);
            # A sendmail that exits without reading its input: its exit status decides.
            if (!defined $count) { $writing = 0; close $stdin_write }
            else {
                $written += $count;
                if ($written >= length $reply) { $writing = 0; close $stdin_write }
            }
        }
        if (vec($rout, fileno($stderr_read), 1)) {
            my $count = sysread($stderr_read, my $chunk, 65536);
            last if !$count;
            $stderr_total += $count;
            $stderr .= $chunk if length $stderr < STDERR_KEPT * 4;
            if ($stderr_total > STDERR_LIMIT_BYTES) { $stopped = 'stderr'; last }
        }
    }
    close $stdin_write if $writing;
    close $stderr_read;
    if (!defined $stopped) {
        until (waitpid($pid, 1) != 0) {
            if (Time::HiRes::time() >= $deadline) { $stopped = 'timeout'; last }
            select(undef, undef, undef, 0.01);
        }
    }
    my $status = $?;
    if (defined $stopped) {
        kill 'KILL', $pid;
        waitpid($pid, 0);
        $status = $?;
    }
    return undef if $status == 0;
    return 'sendmail timed out after ' . SENDMAIL_TIMEOUT_MS . ' ms' if defined $stopped && $stopped eq 'timeout';
    $stderr = substr($stderr, 0, STDERR_KEPT);
    $stderr =~ s/\A\s+|\s+\z//g;
    my $how = defined $stopped ? 'was stopped after writing over ' . STDERR_LIMIT_BYTES . ' bytes to stderr'
        : ($status & 127) ? 'was killed by ' . signal_name($status & 127)
        : 'exited ' . ($status >> 8);
    return "sendmail $how" . ($stderr eq '' ? '' : ": $stderr");
}

sub signal_name {
    require Config;
    no warnings 'once';
    my @names = split ' ', $Config::Config{sig_name};
    return defined $names[$_[0]] ? "SIG$names[$_[0]]" : "signal $_[0]";
}

# ---- the log (return/log.ts) ----

# One line per delivery; never fails the delivery.
sub log_entry {
    my ($entry) = @_;
    return unless defined $log_file;
    my $line = join(' ', iso_now(), $entry->{decision}, 'reason=' . log_word($entry->{reason}),
        'probe=' . log_word($entry->{probe_id}), 'message-id=' . log_word($entry->{message_id}));
    if (defined $entry->{detail}) {
        my $detail = log_clean($entry->{detail}, 300);
        $detail =~ s/(["\\])/\\$1/g;
        $line .= " detail=\"$detail\"";
    }
    my $old = umask(077);
    if (open(my $fh, '>>:raw', $log_file)) { print $fh "$line\n"; close $fh }
    umask($old);
}

sub iso_now {
    my $now = Time::HiRes::time();
    my @t = gmtime(int $now);
    return sprintf('%04d-%02d-%02dT%02d:%02d:%02d.%03dZ', $t[5] + 1900, $t[4] + 1, $t[3], $t[2], $t[1], $t[0],
        int(($now - int $now) * 1000));
}

sub log_word {
    my ($value) = @_;
    return '-' if !defined $value || $value eq '';
    my $word = log_clean($value, 200);
    $word =~ s/\s/_/g;
    return $word;
}

sub log_clean { my ($value, $max) = @_; $value =~ s/[^\x20-\x7e]/?/g; return substr($value, 0, $max) }

# Last, so that every file-scope value above is set before it runs.
my $code = eval { run() };
if (!defined $code) {
    log_entry({ decision => 'tempfail', reason => 'internal-error', detail => error_text($@) });
    $code = EX_TEMPFAIL;
}
exit $code;
