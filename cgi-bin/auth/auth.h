/*
 * auth.h -- the auth family's handlers, shared by its route table.
 *
 * Each operation has one handler; the seeds' paths that mean the same
 * operation all route to it, and the route's dialect picks the request
 * fields and the response shape of that seed.
 */
#ifndef FASTBACK_AUTH_H
#define FASTBACK_AUTH_H

struct request;
struct reply;

/* credentials.c: sign-up and login, for all five seeds. */
int	auth_register(struct request *, struct reply *);
int	auth_login(struct request *, struct reply *);

/* session.c: tokens in use. */
int	auth_protected(struct request *, struct reply *);
int	auth_logout(struct request *, struct reply *);
int	auth_user_tokens(struct request *, struct reply *);
int	auth_refresh(struct request *, struct reply *);

/* otp.c: password reset by e-mailed one-time code (003). */
int	auth_forgot_password(struct request *, struct reply *);
int	auth_otp_validate(struct request *, struct reply *);
int	auth_reset_password(struct request *, struct reply *);

/* status.c: liveness and health. */
int	auth_root(struct request *, struct reply *);
int	auth_ping(struct request *, struct reply *);
int	auth_health(struct request *, struct reply *);

#endif
