# Part of email_return.pl: scripts/build.mjs joins return/perl/*.pl in its order into the one
# self-contained dist/email_return.pl (one lexical scope), as it bundles email_return.cjs.

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
        # An ignored SIGPIPE would be inherited through exec (Node's spawnSync resets it too).
        $SIG{PIPE} = 'DEFAULT';
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
