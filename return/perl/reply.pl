# Part of email_return.pl: scripts/build.mjs joins return/perl/*.pl in its order into the one
# self-contained dist/email_return.pl (one lexical scope), as it bundles email_return.cjs.

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
