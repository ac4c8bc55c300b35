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
#define D2	DIALECT_002
#define D3	DIALECT_003
#define DF	DIALECT_FASTBACK

static const struct route routes[] = {
	/* 002 public room and private chats */
	{ "GET", "/api/messages", chat_public_list, 0, D2 },
	{ "POST", "/api/messages", chat_public_post, BODY, D2 },
	{ "DELETE", "/api/messages/{message_id}", chat_public_delete, 0, D2 },
	{ "GET", "/api/messages/private/{other_user_id}", chat_private_list,
	    0, D2 },
	{ "POST", "/api/messages/private/{other_user_id}", chat_private_post,
	    BODY, D2 },
	{ "DELETE", "/api/messages/private/{other_user_id}/{message_id}",
	    chat_private_delete, 0, D2 },

	/* 002 file metadata */
	{ "POST", "/api/files/", file_create, BODY, D2 },
	{ "GET", "/api/files/", file_list_mine, 0, D2 },
	{ "GET", "/api/files/{file_id}", file_get, 0, D2 },
	{ "DELETE", "/api/files/{file_id}", file_delete, 0, D2 },
	{ "GET", "/api/files/public/{message_id}", file_list_public, 0, D2 },
	{ "GET", "/api/files/private/{chat_id}", file_list_chat, 0, D2 },

	/* 003 (all POST with a JSON body) */
	{ "POST", "/api/user/conversation_start", tb_conversation_start,
	    BODY, D3 },
	{ "POST", "/api/user/conversations", tb_conversations, BODY, D3 },
	{ "POST", "/api/user/get_messages", tb_get_messages, BODY, D3 },
	{ "POST", "/api/user/message_read", tb_message_read, BODY, D3 },
	{ "POST", "/api/user/clear_chat", tb_clear_chat, BODY, D3 },
	{ "POST", "/api/user/add_to_favorites", tb_add_favorite, BODY, D3 },
	{ "POST", "/api/user/remove_from_favorites", tb_remove_favorite,
	    BODY, D3 },
	{ "POST", "/api/user/list_favorites", tb_list_favorites, BODY, D3 },
	{ "POST", "/api/user/add_to_pinned", tb_add_pinned, BODY, D3 },
	{ "POST", "/api/user/remove_from_pinned", tb_remove_pinned, BODY,
	    D3 },
	{ "POST", "/api/user/list_pinned", tb_list_pinned, BODY, D3 },
	{ "POST", "/api/user/is_favorite", tb_is_favorite, BODY, D3 },
	{ "POST", "/api/user/get_group_participants", tb_group_participants,
	    BODY, D3 },
	{ "POST", "/api/user/get_direct_users", tb_direct_users, BODY, D3 },

	/* fastback REST */
	{ "GET", "/api/conversations", rest_conv_list, 0, DF },
	{ "POST", "/api/conversations", rest_conv_create, BODY, DF },
	{ "POST", "/api/conversations/private/{user_id}", rest_private, 0,
	    DF },
	{ "GET", "/api/conversations/{id}", rest_conv_get, 0, DF },
	{ "GET", "/api/conversations/{id}/messages", rest_msg_list, 0, DF },
	{ "POST", "/api/conversations/{id}/messages", rest_msg_post, BODY,
	    DF },
	{ "DELETE", "/api/conversations/{id}/messages/{message_id}",
	    rest_msg_delete, 0, DF },
	{ "POST", "/api/conversations/{id}/read", rest_read, 0, DF },
	{ "POST", "/api/conversations/{id}/clear", rest_clear, 0, DF },
	{ "GET", "/api/conversations/{id}/members", rest_members, 0, DF },
	{ "POST", "/api/conversations/{id}/members", rest_member_add, BODY,
	    DF },
	{ "DELETE", "/api/conversations/{id}/members/{user_id}",
	    rest_member_remove, 0, DF },
	{ "PUT", "/api/conversations/{id}/favorite", rest_favorite_on, 0, DF },
	{ "DELETE", "/api/conversations/{id}/favorite", rest_favorite_off, 0,
	    DF },
	{ "PUT", "/api/conversations/{id}/pin", rest_pin_on, 0, DF },
	{ "DELETE", "/api/conversations/{id}/pin", rest_pin_off, 0, DF },
};

int
main(int argc, char *argv[])
{
	return responder_main(FAMILY_CONVERSATIONS, routes, nitems(routes),
	    argc, argv);
}
