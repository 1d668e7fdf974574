# Part of email_return.pl: scripts/build.mjs joins return/perl/*.pl in its order into the one
# self-contained dist/email_return.pl (one lexical scope), as it bundles email_return.cjs.

# Last, so that every file-scope value above is set before it runs.
my $code = eval { run() };
if (!defined $code) {
    log_entry({ decision => 'tempfail', reason => 'internal-error', detail => error_text($@) });
    $code = EX_TEMPFAIL;
}
exit $code;
