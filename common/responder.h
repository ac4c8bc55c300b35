/*
 * responder.h -- the FastCGI process model every family shares.
 *
 * responder_main() parses the command line, loads the configuration,
 * opens the listening socket (or takes fd 0 from a FastCGI spawner),
 * pre-forks the workers, replaces any that die, and on SIGTERM lets each
 * finish its request in flight before exiting.  A worker opens its own
 * database connection, then loops: accept, build struct request, route,
 * authenticate, parse the body, call the handler, write the reply, log one
 * line.
 */
#ifndef FASTBACK_RESPONDER_H
#define FASTBACK_RESPONDER_H

#include <stddef.h>

#include "config.h"
#include "route.h"

/*
 * Run the responder of family with its route table.  Returns the exit
 * status for main().
 */
int	responder_main(enum family, const struct route *, size_t nroutes,
	    int argc, char *argv[]);

#endif
