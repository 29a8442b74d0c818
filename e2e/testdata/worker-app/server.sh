#!/bin/sh
# The sample Procfile-only app: nothing is compiled. The runner image has no
# nc or busybox, but perl-base is Essential in Debian, so every runner has
# perl and its IO::Socket: it accepts connections, the shell says what to say.
export PORT="${PORT:-5000}"
export GREETING="${GREETING:-hello}"
echo "listening on $PORT"
exec perl -MIO::Socket::INET -e '
	$| = 1;
	my $srv = IO::Socket::INET->new(LocalPort => $ENV{PORT}, Listen => 16, ReuseAddr => 1)
		or die "listen on $ENV{PORT}: $!\n";
	while (my $c = $srv->accept) {
		while (my $line = <$c>) { last if $line =~ /^\r?\n$/ }
		my $body = "$ENV{GREETING} from shell-hello\n";
		print $c "HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\nContent-Length: " . length($body) . "\r\n\r\n$body";
		close $c;
	}'
