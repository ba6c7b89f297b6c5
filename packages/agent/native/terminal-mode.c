/*
 * terminal_mode: the line discipline's mode of a terminal, for the agent's password redaction.
 *
 * readMode(fd) returns the ECHO and ICANON local flags of the terminal behind fd as the data
 * channel's ModeBit bits (1: echo, 2: canonical), a small integer: the agent reads the mode
 * around every keystroke, and an object per read would cost more than the read. On Linux, tcgetattr on a PTY's master answers with its slave's settings, which are the ones
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
  /* The bits as ModeBit in packages/protocol/src/data-channel.ts. */
  int32_t bits = ((settings.c_lflag & ECHO) != 0 ? 1 : 0) | ((settings.c_lflag & ICANON) != 0 ? 2 : 0);
  napi_value result;
  if (napi_create_int32(env, bits, &result) != napi_ok) return fail(env, "readMode: cannot make its result");
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
