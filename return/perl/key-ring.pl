# Part of email_return.pl: scripts/build.mjs joins return/perl/*.pl in its order into the one
# self-contained dist/email_return.pl (one lexical scope), as it bundles email_return.cjs.

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
