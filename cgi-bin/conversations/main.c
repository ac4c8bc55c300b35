/*
 * main.c -- fastback-conversations: the chat of seeds 002 (public room,
 * private chats, files) and 003 (conversations, receipts, favourites,
 * pinned), and fastback's REST routes over the same conversations.  This
 * file is the route table.
 */
#include "alloc.h"
#include "conversations.h"
#include "responder.h"
#include "route.h"

#define BODY	ROUTE_BODY

static const struct route routes[] = {
	/* 002 public room and private chats */
	{ "GET", "/api/messages", chat_public_list, 0, DIALECT_002 },
	{ "POST", "/api/messages", chat_public_post, BODY, DIALECT_002 },
	{ "DELETE", "/api/messages/{message_id}", chat_public_delete,
	    0, DIALECT_002 },
	{ "GET", "/api/messages/private/{other_user_id}", chat_private_list,
	    0, DIALECT_002 },
	{ "POST", "/api/messages/private/{other_user_id}", chat_private_post,
	    BODY, DIALECT_002 },
	{ "DELETE", "/api/messages/private/{other_user_id}/{message_id}",
	    chat_private_delete, 0, DIALECT_002 },

	/* 002 file metadata */
	{ "POST", "/api/files/", file_create, BODY, DIALECT_002 },
	{ "GET", "/api/files/", file_list_mine, 0, DIALECT_002 },
	{ "GET", "/api/files/{file_id}", file_get, 0, DIALECT_002 },
	{ "DELETE", "/api/files/{file_id}", file_delete, 0, DIALECT_002 },
	{ "GET", "/api/files/public/{message_id}", file_list_public,
	    0, DIALECT_002 },
	{ "GET", "/api/files/private/{chat_id}", file_list_chat,
	    0, DIALECT_002 },

	/* 003 (all POST with a JSON body) */
	{ "POST", "/api/user/conversation_start", tb_conversation_start,
	    BODY, DIALECT_003 },
	{ "POST", "/api/user/conversations", tb_conversations,
	    BODY, DIALECT_003 },
	{ "POST", "/api/user/get_messages", tb_get_messages,
	    BODY, DIALECT_003 },
	{ "POST", "/api/user/message_read", tb_message_read,
	    BODY, DIALECT_003 },
	{ "POST", "/api/user/clear_chat", tb_clear_chat, BODY, DIALECT_003 },
	{ "POST", "/api/user/add_to_favorites", tb_add_favorite,
	    BODY, DIALECT_003 },
	{ "POST", "/api/user/remove_from_favorites", tb_remove_favorite,
	    BODY, DIALECT_003 },
	{ "POST", "/api/user/list_favorites", tb_list_favorites,
	    BODY, DIALECT_003 },
	{ "POST", "/api/user/add_to_pinned", tb_add_pinned, BODY, DIALECT_003 },
	{ "POST", "/api/user/remove_from_pinned", tb_remove_pinned, BODY,
	    DIALECT_003 },
	{ "POST", "/api/user/list_pinned", tb_list_pinned, BODY, DIALECT_003 },
	{ "POST", "/api/user/is_favorite", tb_is_favorite, BODY, DIALECT_003 },
	{ "POST", "/api/user/get_group_participants", tb_group_participants,
	    BODY, DIALECT_003 },
	{ "POST", "/api/user/get_direct_users", tb_direct_users,
	    BODY, DIALECT_003 },

	/* fastback REST */
	{ "GET", "/api/conversations", rest_conv_list, 0, DIALECT_FASTBACK },
	{ "POST", "/api/conversations", rest_conv_create,
	    BODY, DIALECT_FASTBACK },
	{ "POST", "/api/private-chats/{user_id}", rest_private, 0,
	    DIALECT_FASTBACK },
	{ "GET", "/api/conversations/{id}", rest_conv_get,
	    0, DIALECT_FASTBACK },
	{ "GET", "/api/conversations/{id}/messages", rest_msg_list,
	    0, DIALECT_FASTBACK },
	{ "POST", "/api/conversations/{id}/messages", rest_msg_post, BODY,
	    DIALECT_FASTBACK },
	{ "DELETE", "/api/conversations/{id}/messages/{message_id}",
	    rest_msg_delete, 0, DIALECT_FASTBACK },
	{ "POST", "/api/conversations/{id}/read", rest_read,
	    0, DIALECT_FASTBACK },
	{ "POST", "/api/conversations/{id}/clear", rest_clear,
	    0, DIALECT_FASTBACK },
	{ "GET", "/api/conversations/{id}/members", rest_members,
	    0, DIALECT_FASTBACK },
	{ "POST", "/api/conversations/{id}/members", rest_member_add, BODY,
	    DIALECT_FASTBACK },
	{ "DELETE", "/api/conversations/{id}/members/{user_id}",
	    rest_member_remove, 0, DIALECT_FASTBACK },
	{ "PUT", "/api/conversations/{id}/favorite", rest_favorite_on,
	    0, DIALECT_FASTBACK },
	{ "DELETE", "/api/conversations/{id}/favorite", rest_favorite_off, 0,
	    DIALECT_FASTBACK },
	{ "PUT", "/api/conversations/{id}/pin", rest_pin_on,
	    0, DIALECT_FASTBACK },
	{ "DELETE", "/api/conversations/{id}/pin", rest_pin_off,
	    0, DIALECT_FASTBACK },
};

int
main(int argc, char *argv[])
{
	return responder_main(FAMILY_CONVERSATIONS, routes, nitems(routes),
	    argc, argv);
}
