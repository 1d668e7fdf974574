# Part of email_return.pl: scripts/build.mjs joins return/perl/*.pl in its order into the one
# self-contained dist/email_return.pl (one lexical scope), as it bundles email_return.cjs.

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
