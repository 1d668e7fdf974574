# Part of email_return.pl: scripts/build.mjs joins return/perl/*.pl in its order into the one
# self-contained dist/email_return.pl (one lexical scope), as it bundles email_return.cjs.

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
