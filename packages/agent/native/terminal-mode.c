/*
 * terminal_mode: the line discipline's mode of a terminal, for the agent's password redaction.
 *
 * readMode(fd) returns {echo, canonical}: the ECHO and ICANON local flags of the terminal behind
 * fd. On Linux, tcgetattr on a PTY's master answers with its slave's settings, which are the ones
 * the program on the terminal sets (a password prompt turns ECHO off and keeps ICANON; an editor
 * or readline turns both off and echoes by itself). Node has no binding for tcgetattr, hence C.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <termios.h>
#include <node_api.h>

static napi_value fail(napi_env env, const char *message) {
  napi_throw_error(env, NULL, message);
  return NULL;
}

static napi_value read_mode(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok) return fail(env, "readMode: cannot read its arguments");
  int32_t fd = -1;
  if (argc < 1 || napi_get_value_int32(env, argv[0], &fd) != napi_ok || fd < 0) {
    napi_throw_type_error(env, NULL, "readMode(fd): fd must be a file descriptor (a whole number from 0)");
    return NULL;
  }
  struct termios settings;
  if (tcgetattr(fd, &settings) != 0) {
    char message[160];
    snprintf(message, sizeof message, "readMode: tcgetattr(%d) failed: %s", fd, strerror(errno));
    return fail(env, message);
  }
  napi_value result, echo, canonical;
  if (napi_create_object(env, &result) != napi_ok
      || napi_get_boolean(env, (settings.c_lflag & ECHO) != 0, &echo) != napi_ok
      || napi_get_boolean(env, (settings.c_lflag & ICANON) != 0, &canonical) != napi_ok
      || napi_set_named_property(env, result, "echo", echo) != napi_ok
      || napi_set_named_property(env, result, "canonical", canonical) != napi_ok) {
    return fail(env, "readMode: cannot make its result");
  }
  return result;
}

static napi_value init(napi_env env, napi_value exports) {
  napi_value fn;
  if (napi_create_function(env, "readMode", NAPI_AUTO_LENGTH, read_mode, NULL, &fn) != napi_ok
      || napi_set_named_property(env, exports, "readMode", fn) != napi_ok) {
    return fail(env, "terminal_mode: cannot export readMode");
  }
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
