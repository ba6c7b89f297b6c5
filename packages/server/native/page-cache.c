/*
 * page_cache: lets the kernel drop a file's cached pages once they are on disk, for the session
 * records (records/{id}.rec). A record is written once, synced, and read again only for a replay
 * or after a crash; left in the page cache it takes fresh memory for every byte a session prints,
 * which cost about 2-3 CPU s per GB on the server's virtual machine (the hypervisor backs a
 * guest's untouched memory on first use), against 0.25 s with the pages let go after each sync.
 * Node has no binding for posix_fadvise, hence C.
 *
 * dropCached(fd, offset, length) advises POSIX_FADV_DONTNEED for that range (length 0: to the
 * end of the file) and returns 0, or the error number posix_fadvise gave (it is advice: the
 * caller goes on either way). Dirty pages are not dropped, so the caller syncs first.
 */
#include <fcntl.h>
#include <node_api.h>

static napi_value drop_cached(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3];
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok) {
    napi_throw_error(env, NULL, "dropCached: cannot read its arguments");
    return NULL;
  }
  int32_t fd = -1;
  int64_t offset = -1, length = -1;
  if (argc < 3 || napi_get_value_int32(env, argv[0], &fd) != napi_ok || napi_get_value_int64(env, argv[1], &offset) != napi_ok
      || napi_get_value_int64(env, argv[2], &length) != napi_ok || fd < 0 || offset < 0 || length < 0) {
    napi_throw_type_error(env, NULL, "dropCached(fd, offset, length): a file descriptor, then a byte offset and a length (0: to the end), whole numbers from 0");
    return NULL;
  }
  napi_value result;
  if (napi_create_int32(env, posix_fadvise(fd, (off_t)offset, (off_t)length, POSIX_FADV_DONTNEED), &result) != napi_ok) {
    napi_throw_error(env, NULL, "dropCached: cannot make its result");
    return NULL;
  }
  return result;
}

static napi_value init(napi_env env, napi_value exports) {
  napi_value fn;
  if (napi_create_function(env, "dropCached", NAPI_AUTO_LENGTH, drop_cached, NULL, &fn) != napi_ok
      || napi_set_named_property(env, exports, "dropCached", fn) != napi_ok) {
    napi_throw_error(env, NULL, "page_cache: cannot export dropCached");
    return NULL;
  }
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
