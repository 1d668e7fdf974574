# Part of email_return.pl: scripts/build.mjs joins return/perl/*.pl in its order into the one
# self-contained dist/email_return.pl (one lexical scope), as it bundles email_return.cjs.

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
