// MAPI's names and numbers: event types, table events, property types and
// tags, object types and SCODEs. Spelled as MAPI spells them so that code
// written against MAPI ports line by line. Constants only; no state.
#ifndef MAPINOTIFY_MAPI_H_
#define MAPINOTIFY_MAPI_H_

#include <cstdint>

namespace mapinotify {

using ULONG = uint32_t;
using SCODE = int32_t;
using HRESULT = int32_t;

// Event types (NOTIFICATION.ulEventType). An event mask is an OR of them.
inline constexpr ULONG fnevCriticalError = 0x00000001;
inline constexpr ULONG fnevNewMail = 0x00000002;
inline constexpr ULONG fnevObjectCreated = 0x00000004;
inline constexpr ULONG fnevObjectDeleted = 0x00000008;
inline constexpr ULONG fnevObjectModified = 0x00000010;
inline constexpr ULONG fnevObjectMoved = 0x00000020;
inline constexpr ULONG fnevObjectCopied = 0x00000040;
inline constexpr ULONG fnevSearchComplete = 0x00000080;
inline constexpr ULONG fnevTableModified = 0x00000100;
inline constexpr ULONG fnevStatusObjectModified = 0x00000200;
inline constexpr ULONG fnevExtended = 0x80000000;
// Every bit above; a mask with any other bit is invalid.
inline constexpr ULONG kAllEventTypes =
    fnevCriticalError | fnevNewMail | fnevObjectCreated | fnevObjectDeleted |
    fnevObjectModified | fnevObjectMoved | fnevObjectCopied |
    fnevSearchComplete | fnevTableModified | fnevStatusObjectModified |
    fnevExtended;

// Table events (TABLE_NOTIFICATION.ulTableEvent).
inline constexpr ULONG TABLE_CHANGED = 1;
inline constexpr ULONG TABLE_ERROR = 2;
inline constexpr ULONG TABLE_ROW_ADDED = 3;
inline constexpr ULONG TABLE_ROW_DELETED = 4;
inline constexpr ULONG TABLE_ROW_MODIFIED = 5;
inline constexpr ULONG TABLE_SORT_DONE = 6;
inline constexpr ULONG TABLE_RESTRICT_DONE = 7;
inline constexpr ULONG TABLE_SETCOL_DONE = 8;
inline constexpr ULONG TABLE_RELOAD = 9;

// Property types (the low 16 bits of a property tag).
inline constexpr ULONG PT_UNSPECIFIED = 0x0000;
inline constexpr ULONG PT_NULL = 0x0001;
inline constexpr ULONG PT_LONG = 0x0003;
inline constexpr ULONG PT_DOUBLE = 0x0005;
inline constexpr ULONG PT_ERROR = 0x000A;
inline constexpr ULONG PT_BOOLEAN = 0x000B;
inline constexpr ULONG PT_I8 = 0x0014;
inline constexpr ULONG PT_UNICODE = 0x001F;
inline constexpr ULONG PT_SYSTIME = 0x0040;
inline constexpr ULONG PT_CLSID = 0x0048;
inline constexpr ULONG PT_BINARY = 0x0102;
inline constexpr ULONG MV_FLAG = 0x1000;
inline constexpr ULONG PT_MV_LONG = MV_FLAG | PT_LONG;
inline constexpr ULONG PT_MV_DOUBLE = MV_FLAG | PT_DOUBLE;
inline constexpr ULONG PT_MV_I8 = MV_FLAG | PT_I8;
inline constexpr ULONG PT_MV_UNICODE = MV_FLAG | PT_UNICODE;
inline constexpr ULONG PT_MV_SYSTIME = MV_FLAG | PT_SYSTIME;
inline constexpr ULONG PT_MV_CLSID = MV_FLAG | PT_CLSID;
inline constexpr ULONG PT_MV_BINARY = MV_FLAG | PT_BINARY;

constexpr ULONG PROP_TAG(ULONG type, ULONG id) { return (id << 16) | type; }
constexpr ULONG PROP_TYPE(ULONG tag) { return tag & 0xFFFF; }
constexpr ULONG PROP_ID(ULONG tag) { return tag >> 16; }
constexpr ULONG CHANGE_PROP_TYPE(ULONG tag, ULONG type) {
  return (tag & 0xFFFF0000) | type;
}

// Property tags used by this library.
inline constexpr ULONG PR_NULL = PROP_TAG(PT_NULL, 0x0000);
inline constexpr ULONG PR_ENTRYID = PROP_TAG(PT_BINARY, 0x0FFF);
inline constexpr ULONG PR_OBJECT_TYPE = PROP_TAG(PT_LONG, 0x0FFE);
inline constexpr ULONG PR_RECORD_KEY = PROP_TAG(PT_BINARY, 0x0FF9);
inline constexpr ULONG PR_INSTANCE_KEY = PROP_TAG(PT_BINARY, 0x0FF6);
inline constexpr ULONG PR_PARENT_ENTRYID = PROP_TAG(PT_BINARY, 0x0E09);
inline constexpr ULONG PR_DISPLAY_NAME = PROP_TAG(PT_UNICODE, 0x3001);
inline constexpr ULONG PR_SUBJECT = PROP_TAG(PT_UNICODE, 0x0037);
inline constexpr ULONG PR_MESSAGE_CLASS = PROP_TAG(PT_UNICODE, 0x001A);
inline constexpr ULONG PR_MESSAGE_FLAGS = PROP_TAG(PT_LONG, 0x0E07);
inline constexpr ULONG PR_CONTENT_COUNT = PROP_TAG(PT_LONG, 0x3602);
inline constexpr ULONG PR_CONTENT_UNREAD = PROP_TAG(PT_LONG, 0x3603);
inline constexpr ULONG PR_SUBFOLDERS = PROP_TAG(PT_BOOLEAN, 0x360A);
inline constexpr ULONG PR_FOLDER_CHILD_COUNT = PROP_TAG(PT_LONG, 0x6638);
inline constexpr ULONG PR_STORE_SUPPORT_MASK = PROP_TAG(PT_LONG, 0x340D);
inline constexpr ULONG PR_IPM_SUBTREE_ENTRYID = PROP_TAG(PT_BINARY, 0x35E0);

inline constexpr ULONG PR_COMMENT = PROP_TAG(PT_UNICODE, 0x3004);
inline constexpr ULONG PR_FOLDER_TYPE = PROP_TAG(PT_LONG, 0x3601);
inline constexpr ULONG PR_MESSAGE_SIZE = PROP_TAG(PT_LONG, 0x0E08);
inline constexpr ULONG PR_BODY = PROP_TAG(PT_UNICODE, 0x1000);
inline constexpr ULONG PR_SENDER_NAME = PROP_TAG(PT_UNICODE, 0x0C1A);
inline constexpr ULONG PR_CREATION_TIME = PROP_TAG(PT_SYSTIME, 0x3007);
inline constexpr ULONG PR_LAST_MODIFICATION_TIME = PROP_TAG(PT_SYSTIME, 0x3008);
inline constexpr ULONG PR_MESSAGE_DELIVERY_TIME = PROP_TAG(PT_SYSTIME, 0x0E06);
inline constexpr ULONG PR_STORE_ENTRYID = PROP_TAG(PT_BINARY, 0x0FFB);
inline constexpr ULONG PR_STORE_RECORD_KEY = PROP_TAG(PT_BINARY, 0x0FFA);
inline constexpr ULONG PR_MDB_PROVIDER = PROP_TAG(PT_BINARY, 0x3414);
inline constexpr ULONG PR_VALID_FOLDER_MASK = PROP_TAG(PT_LONG, 0x35DF);
inline constexpr ULONG PR_IPM_OUTBOX_ENTRYID = PROP_TAG(PT_BINARY, 0x35E2);
inline constexpr ULONG PR_IPM_WASTEBASKET_ENTRYID = PROP_TAG(PT_BINARY, 0x35E3);
inline constexpr ULONG PR_IPM_SENTMAIL_ENTRYID = PROP_TAG(PT_BINARY, 0x35E4);
inline constexpr ULONG PR_DEPTH = PROP_TAG(PT_LONG, 0x3005);
inline constexpr ULONG PR_INSTANCE_NUM = PROP_TAG(PT_LONG, 0x0FF5);

// PR_STORE_SUPPORT_MASK bits.
inline constexpr ULONG STORE_ENTRYID_UNIQUE = 0x00000001;
inline constexpr ULONG STORE_READONLY = 0x00000002;
inline constexpr ULONG STORE_SEARCH_OK = 0x00000004;
inline constexpr ULONG STORE_MODIFY_OK = 0x00000008;
inline constexpr ULONG STORE_CREATE_OK = 0x00000010;
inline constexpr ULONG STORE_ATTACH_OK = 0x00000020;
inline constexpr ULONG STORE_OLE_OK = 0x00000040;
inline constexpr ULONG STORE_SUBMIT_OK = 0x00000080;
inline constexpr ULONG STORE_NOTIFY_OK = 0x00000100;
inline constexpr ULONG STORE_MV_PROPS_OK = 0x00000200;
inline constexpr ULONG STORE_CATEGORIZE_OK = 0x00000400;
inline constexpr ULONG STORE_RTF_OK = 0x00000800;
inline constexpr ULONG STORE_RESTRICTION_OK = 0x00001000;
inline constexpr ULONG STORE_SORT_OK = 0x00002000;
inline constexpr ULONG STORE_UNICODE_OK = 0x00040000;

// PR_MESSAGE_FLAGS bits.
inline constexpr ULONG MSGFLAG_READ = 0x00000001;
inline constexpr ULONG MSGFLAG_UNMODIFIED = 0x00000002;
inline constexpr ULONG MSGFLAG_SUBMIT = 0x00000004;
inline constexpr ULONG MSGFLAG_UNSENT = 0x00000008;
inline constexpr ULONG MSGFLAG_HASATTACH = 0x00000010;

// PR_FOLDER_TYPE values.
inline constexpr ULONG FOLDER_ROOT = 0x00000000;
inline constexpr ULONG FOLDER_GENERIC = 0x00000001;
inline constexpr ULONG FOLDER_SEARCH = 0x00000002;

// Flags of folder and message operations.
inline constexpr ULONG MAPI_MODIFY = 0x00000001;
inline constexpr ULONG MAPI_BEST_ACCESS = 0x00000010;
inline constexpr ULONG OPEN_IF_EXISTS = 0x00000001;   // CreateFolder
inline constexpr ULONG DEL_MESSAGES = 0x00000008;     // DeleteFolder
inline constexpr ULONG DEL_FOLDERS = 0x00000004;      // DeleteFolder
inline constexpr ULONG DEL_ASSOCIATED = 0x00000008;   // EmptyFolder
inline constexpr ULONG FOLDER_MOVE = 0x00000001;      // CopyFolder
inline constexpr ULONG COPY_SUBFOLDERS = 0x00000010;  // CopyFolder
inline constexpr ULONG MESSAGE_MOVE = 0x00000001;     // CopyMessages
inline constexpr ULONG MESSAGE_DIALOG = 0x00000002;
inline constexpr ULONG CLEAR_READ_FLAG = 0x00000004;  // SetReadFlags
inline constexpr ULONG SUPPRESS_RECEIPT = 0x00000001;
inline constexpr ULONG KEEP_OPEN_READONLY = 0x00000001;   // SaveChanges
inline constexpr ULONG KEEP_OPEN_READWRITE = 0x00000002;  // SaveChanges
inline constexpr ULONG FORCE_SAVE = 0x00000004;           // SaveChanges
inline constexpr ULONG MAPI_DEFERRED_ERRORS = 0x00000008;
// mapinotify's flag for OpenMessage / CreateMessage (not MAPI's): keep
// separate pending changes for each client thread of the session.
inline constexpr ULONG MAPINOTIFY_THREAD_AWARE = 0x00010000;

// Tables (IMAPITable, IMAPIContainer).
inline constexpr ULONG CONVENIENT_DEPTH = 0x00000001;  // GetHierarchyTable
inline constexpr ULONG TBL_ASYNC = 0x00000001;  // SetColumns/Restrict/SortTable
inline constexpr ULONG TBL_BATCH = 0x00000002;
inline constexpr ULONG TBL_NOADVANCE = 0x00000001;    // QueryRows
inline constexpr ULONG TBL_ALL_COLUMNS = 0x00000001;  // QueryColumns
inline constexpr ULONG DIR_BACKWARD = 0x00000001;     // FindRow
// A bookmark (BOOKMARK): the three predefined ones; CreateBookmark returns
// others.
using BOOKMARK = ULONG;
inline constexpr BOOKMARK BOOKMARK_BEGINNING = 0;
inline constexpr BOOKMARK BOOKMARK_CURRENT = 1;
inline constexpr BOOKMARK BOOKMARK_END = 2;
// SSortOrder.ulOrder.
inline constexpr ULONG TABLE_SORT_ASCEND = 0x00000000;
inline constexpr ULONG TABLE_SORT_DESCEND = 0x00000001;
// SRestriction.rt.
inline constexpr ULONG RES_AND = 0x00000000;
inline constexpr ULONG RES_OR = 0x00000001;
inline constexpr ULONG RES_NOT = 0x00000002;
inline constexpr ULONG RES_CONTENT = 0x00000003;
inline constexpr ULONG RES_PROPERTY = 0x00000004;
inline constexpr ULONG RES_COMPAREPROPS = 0x00000005;
inline constexpr ULONG RES_BITMASK = 0x00000006;
inline constexpr ULONG RES_SIZE = 0x00000007;
inline constexpr ULONG RES_EXIST = 0x00000008;
// Relational operators (SPropertyRestriction.relop, SComparePropsRestriction).
inline constexpr ULONG RELOP_LT = 0;
inline constexpr ULONG RELOP_LE = 1;
inline constexpr ULONG RELOP_GT = 2;
inline constexpr ULONG RELOP_GE = 3;
inline constexpr ULONG RELOP_EQ = 4;
inline constexpr ULONG RELOP_NE = 5;
inline constexpr ULONG RELOP_RE = 6;
// SContentRestriction.ulFuzzyLevel: the low word picks the match, the high
// word adds modifiers.
inline constexpr ULONG FL_FULLSTRING = 0x00000000;
inline constexpr ULONG FL_SUBSTRING = 0x00000001;
inline constexpr ULONG FL_PREFIX = 0x00000002;
inline constexpr ULONG FL_IGNORECASE = 0x00010000;
inline constexpr ULONG FL_IGNORENONSPACE = 0x00020000;
inline constexpr ULONG FL_LOOSE = 0x00040000;
// SBitMaskRestriction.relBMR.
inline constexpr ULONG BMR_EQZ = 0x00000000;
inline constexpr ULONG BMR_NEZ = 0x00000001;

// IMAPIProgress flags.
inline constexpr ULONG MAPI_TOP_LEVEL = 0x00000001;

// Object types (PR_OBJECT_TYPE, OBJECT_NOTIFICATION.ulObjType).
inline constexpr ULONG MAPI_STORE = 0x00000001;
inline constexpr ULONG MAPI_ADDRBOOK = 0x00000002;
inline constexpr ULONG MAPI_FOLDER = 0x00000003;
inline constexpr ULONG MAPI_ABCONT = 0x00000004;
inline constexpr ULONG MAPI_MESSAGE = 0x00000005;
inline constexpr ULONG MAPI_MAILUSER = 0x00000006;
inline constexpr ULONG MAPI_ATTACH = 0x00000007;
inline constexpr ULONG MAPI_DISTLIST = 0x00000008;
inline constexpr ULONG MAPI_PROFSECT = 0x00000009;
inline constexpr ULONG MAPI_STATUS = 0x0000000A;
inline constexpr ULONG MAPI_SESSION = 0x0000000B;

// SCODEs. MAKE_MAPI_E(code) is MAKE_SCODE(SEVERITY_ERROR, FACILITY_ITF, code).
constexpr SCODE MAKE_MAPI_E(ULONG code) {
  return static_cast<SCODE>(0x80040000u | code);
}
constexpr SCODE MAKE_MAPI_S(ULONG code) {
  return static_cast<SCODE>(0x00040000u | code);
}
inline constexpr SCODE S_OK = 0;
inline constexpr SCODE MAPI_E_CALL_FAILED = static_cast<SCODE>(0x80004005u);
inline constexpr SCODE MAPI_E_NOT_ENOUGH_MEMORY =
    static_cast<SCODE>(0x8007000Eu);
inline constexpr SCODE MAPI_E_INVALID_PARAMETER =
    static_cast<SCODE>(0x80070057u);
inline constexpr SCODE MAPI_E_NO_ACCESS = static_cast<SCODE>(0x80070005u);
inline constexpr SCODE MAPI_E_NO_SUPPORT = MAKE_MAPI_E(0x102);
inline constexpr SCODE MAPI_E_BAD_CHARWIDTH = MAKE_MAPI_E(0x103);
inline constexpr SCODE MAPI_E_STRING_TOO_LONG = MAKE_MAPI_E(0x105);
inline constexpr SCODE MAPI_E_UNKNOWN_FLAGS = MAKE_MAPI_E(0x106);
inline constexpr SCODE MAPI_E_INVALID_ENTRYID = MAKE_MAPI_E(0x107);
inline constexpr SCODE MAPI_E_INVALID_OBJECT = MAKE_MAPI_E(0x108);
inline constexpr SCODE MAPI_E_OBJECT_CHANGED = MAKE_MAPI_E(0x109);
inline constexpr SCODE MAPI_E_OBJECT_DELETED = MAKE_MAPI_E(0x10A);
inline constexpr SCODE MAPI_E_BUSY = MAKE_MAPI_E(0x10B);
inline constexpr SCODE MAPI_E_NOT_ENOUGH_DISK = MAKE_MAPI_E(0x10D);
inline constexpr SCODE MAPI_E_NOT_ENOUGH_RESOURCES = MAKE_MAPI_E(0x10E);
inline constexpr SCODE MAPI_E_NOT_FOUND = MAKE_MAPI_E(0x10F);
inline constexpr SCODE MAPI_E_VERSION = MAKE_MAPI_E(0x110);
inline constexpr SCODE MAPI_E_LOGON_FAILED = MAKE_MAPI_E(0x111);
inline constexpr SCODE MAPI_E_SESSION_LIMIT = MAKE_MAPI_E(0x112);
inline constexpr SCODE MAPI_E_USER_CANCEL = MAKE_MAPI_E(0x113);
inline constexpr SCODE MAPI_E_UNABLE_TO_ABORT = MAKE_MAPI_E(0x114);
inline constexpr SCODE MAPI_E_NETWORK_ERROR = MAKE_MAPI_E(0x115);
inline constexpr SCODE MAPI_E_DISK_ERROR = MAKE_MAPI_E(0x116);
inline constexpr SCODE MAPI_E_TOO_COMPLEX = MAKE_MAPI_E(0x117);
inline constexpr SCODE MAPI_E_BAD_COLUMN = MAKE_MAPI_E(0x118);
inline constexpr SCODE MAPI_E_EXTENDED_ERROR = MAKE_MAPI_E(0x119);
inline constexpr SCODE MAPI_E_COMPUTED = MAKE_MAPI_E(0x11A);
inline constexpr SCODE MAPI_E_CORRUPT_DATA = MAKE_MAPI_E(0x11B);
inline constexpr SCODE MAPI_E_UNCONFIGURED = MAKE_MAPI_E(0x11C);
inline constexpr SCODE MAPI_E_FAILONEPROVIDER = MAKE_MAPI_E(0x11D);
inline constexpr SCODE MAPI_E_UNKNOWN_CPID = MAKE_MAPI_E(0x11E);
inline constexpr SCODE MAPI_E_UNKNOWN_LCID = MAKE_MAPI_E(0x11F);
inline constexpr SCODE MAPI_E_END_OF_SESSION = MAKE_MAPI_E(0x200);
inline constexpr SCODE MAPI_E_UNKNOWN_ENTRYID = MAKE_MAPI_E(0x201);
inline constexpr SCODE MAPI_E_MISSING_REQUIRED_COLUMN = MAKE_MAPI_E(0x202);
inline constexpr SCODE MAPI_E_BAD_VALUE = MAKE_MAPI_E(0x301);
inline constexpr SCODE MAPI_E_INVALID_TYPE = MAKE_MAPI_E(0x302);
inline constexpr SCODE MAPI_E_TYPE_NO_SUPPORT = MAKE_MAPI_E(0x303);
inline constexpr SCODE MAPI_E_UNEXPECTED_TYPE = MAKE_MAPI_E(0x304);
inline constexpr SCODE MAPI_E_TOO_BIG = MAKE_MAPI_E(0x305);
inline constexpr SCODE MAPI_E_DECLINE_COPY = MAKE_MAPI_E(0x306);
inline constexpr SCODE MAPI_E_UNEXPECTED_ID = MAKE_MAPI_E(0x307);
inline constexpr SCODE MAPI_E_UNABLE_TO_COMPLETE = MAKE_MAPI_E(0x400);
inline constexpr SCODE MAPI_E_TIMEOUT = MAKE_MAPI_E(0x401);
inline constexpr SCODE MAPI_E_TABLE_EMPTY = MAKE_MAPI_E(0x402);
inline constexpr SCODE MAPI_E_TABLE_TOO_BIG = MAKE_MAPI_E(0x403);
inline constexpr SCODE MAPI_E_INVALID_BOOKMARK = MAKE_MAPI_E(0x405);
inline constexpr SCODE MAPI_E_WAIT = MAKE_MAPI_E(0x500);
inline constexpr SCODE MAPI_E_CANCEL = MAKE_MAPI_E(0x501);
inline constexpr SCODE MAPI_E_NOT_ME = MAKE_MAPI_E(0x502);
inline constexpr SCODE MAPI_E_CORRUPT_STORE = MAKE_MAPI_E(0x600);
inline constexpr SCODE MAPI_E_NOT_IN_QUEUE = MAKE_MAPI_E(0x601);
inline constexpr SCODE MAPI_E_NO_SUPPRESS = MAKE_MAPI_E(0x602);
inline constexpr SCODE MAPI_E_COLLISION = MAKE_MAPI_E(0x604);
inline constexpr SCODE MAPI_E_NOT_INITIALIZED = MAKE_MAPI_E(0x605);
inline constexpr SCODE MAPI_E_NON_STANDARD = MAKE_MAPI_E(0x606);
inline constexpr SCODE MAPI_E_NO_RECIPIENTS = MAKE_MAPI_E(0x607);
inline constexpr SCODE MAPI_E_SUBMITTED = MAKE_MAPI_E(0x608);
inline constexpr SCODE MAPI_E_HAS_FOLDERS = MAKE_MAPI_E(0x609);
inline constexpr SCODE MAPI_E_HAS_MESSAGES = MAKE_MAPI_E(0x60A);
inline constexpr SCODE MAPI_E_FOLDER_CYCLE = MAKE_MAPI_E(0x60B);
inline constexpr SCODE MAPI_W_ERRORS_RETURNED = MAKE_MAPI_S(0x380);
inline constexpr SCODE MAPI_W_POSITION_CHANGED = MAKE_MAPI_S(0x481);
inline constexpr SCODE MAPI_W_APPROX_COUNT = MAKE_MAPI_S(0x482);
inline constexpr SCODE MAPI_W_PARTIAL_COMPLETION = MAKE_MAPI_S(0x680);

// mapinotify's own SCODE, in MAPI's interface facility (not defined by MAPI):
// the scode of the fnevCriticalError that tells a non-table sink that
// notifications were lost (a queue overflowed or a resume point could not be
// honoured) and that it must re-read the state it watches. Table sinks get
// TABLE_RELOAD instead.
inline constexpr SCODE MAPI_E_NOTIFICATIONS_LOST = MAKE_MAPI_E(0x7F0);

// PR_VALID_FOLDER_MASK bits: which of the store's well-known folder entry
// ids are valid.
inline constexpr ULONG FOLDER_IPM_SUBTREE_VALID = 0x00000001;
inline constexpr ULONG FOLDER_IPM_INBOX_VALID = 0x00000002;
inline constexpr ULONG FOLDER_IPM_OUTBOX_VALID = 0x00000004;
inline constexpr ULONG FOLDER_IPM_WASTEBASKET_VALID = 0x00000008;
inline constexpr ULONG FOLDER_IPM_SENTMAIL_VALID = 0x00000010;

}  // namespace mapinotify

#endif  // MAPINOTIFY_MAPI_H_
