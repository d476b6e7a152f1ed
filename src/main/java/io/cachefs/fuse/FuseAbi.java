package io.cachefs.fuse;

import java.lang.foreign.MemoryLayout;
import java.lang.foreign.StructLayout;
import java.lang.invoke.VarHandle;

import static java.lang.foreign.MemoryLayout.PathElement.groupElement;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;

/**
 * The FUSE kernel ABI: every struct layout, opcode and flag the layer uses, defined once.
 *
 * <p>Values follow upstream {@code include/uapi/linux/fuse.h}, protocol 7.40+ (passthrough came
 * in 7.40, kernel 6.9); Debian 12's installed header (7.38) lacks the newer ones. Fields are
 * read and written only through the VarHandles here, each taking (segment, base offset), so no
 * offset arithmetic lives anywhere else. All integers are native-endian.
 */
final class FuseAbi {
    private FuseAbi() {
    }

    static final int KERNEL_VERSION = 7;
    /** The minor version this layer speaks; the kernel takes the smaller of its own and ours. */
    static final int KERNEL_MINOR_VERSION = 45;
    /** FUSE_COMPAT_22_INIT_OUT_SIZE: kernels before 7.23 expect the short INIT reply. */
    static final int INIT_OUT_SIZE_COMPAT_22 = 24;
    static final long ROOT_ID = 1;

    // ---- opcodes -------------------------------------------------------------------------------
    static final int LOOKUP = 1, FORGET = 2, GETATTR = 3, SETATTR = 4, READLINK = 5, SYMLINK = 6,
            MKNOD = 8, MKDIR = 9, UNLINK = 10, RMDIR = 11, RENAME = 12, LINK = 13, OPEN = 14, READ = 15,
            WRITE = 16, STATFS = 17, RELEASE = 18, FSYNC = 20, SETXATTR = 21, GETXATTR = 22,
            LISTXATTR = 23, REMOVEXATTR = 24, FLUSH = 25, INIT = 26, OPENDIR = 27, READDIR = 28,
            RELEASEDIR = 29, FSYNCDIR = 30, GETLK = 31, SETLK = 32, SETLKW = 33, ACCESS = 34,
            CREATE = 35, INTERRUPT = 36, BMAP = 37, DESTROY = 38, IOCTL = 39, POLL = 40,
            NOTIFY_REPLY = 41, BATCH_FORGET = 42, FALLOCATE = 43, READDIRPLUS = 44, RENAME2 = 45,
            LSEEK = 46, COPY_FILE_RANGE = 47, SETUPMAPPING = 48, REMOVEMAPPING = 49, SYNCFS = 50,
            TMPFILE = 51, STATX = 52, COPY_FILE_RANGE_64 = 53;

    // ---- INIT flags (bits 32..63 travel in flags2) --------------------------------------------
    static final long ASYNC_READ = 1L << 0;
    static final long BIG_WRITES = 1L << 5;
    static final long AUTO_INVAL_DATA = 1L << 12;
    static final long DO_READDIRPLUS = 1L << 13;
    static final long READDIRPLUS_AUTO = 1L << 14;
    static final long WRITEBACK_CACHE = 1L << 16;
    static final long PARALLEL_DIROPS = 1L << 18;
    static final long MAX_PAGES = 1L << 22;
    static final long CACHE_SYMLINKS = 1L << 23;
    static final long INIT_EXT = 1L << 30;
    static final long DIRECT_IO_ALLOW_MMAP = 1L << 36;
    static final long PASSTHROUGH = 1L << 37;

    // ---- open_out.open_flags -------------------------------------------------------------------
    static final int FOPEN_DIRECT_IO = 1 << 0;
    static final int FOPEN_KEEP_CACHE = 1 << 1;
    static final int FOPEN_PASSTHROUGH = 1 << 7;

    // ---- notification codes (sent as out_header.error with unique 0) ---------------------------
    static final int NOTIFY_INVAL_INODE = 2;
    static final int NOTIFY_INVAL_ENTRY = 3;

    // ---- ioctls on /dev/fuse -------------------------------------------------------------------
    /** _IOW(229, 1, struct fuse_backing_map) */
    static final long DEV_IOC_BACKING_OPEN = 0x4010E501L;
    /** _IOW(229, 2, uint32_t) */
    static final long DEV_IOC_BACKING_CLOSE = 0x4004E502L;

    static final int SEEK_DATA = 3;
    static final int SEEK_HOLE = 4;

    /**
     * <pre>
     * fuse_in_header (40)     | len u32 | opcode u32 | unique u64 | nodeid u64 |
     *                         | uid u32 | gid u32 | pid u32 | total_extlen u16 | padding u16 |
     * </pre>
     */
    static final StructLayout IN_HEADER = MemoryLayout.structLayout(
            JAVA_INT.withName("len"), JAVA_INT.withName("opcode"), JAVA_LONG.withName("unique"),
            JAVA_LONG.withName("nodeid"), JAVA_INT.withName("uid"), JAVA_INT.withName("gid"),
            JAVA_INT.withName("pid"), JAVA_SHORT.withName("total_extlen"), JAVA_SHORT.withName("padding"));
    static final VarHandle IN_LEN = field(IN_HEADER, "len");
    static final VarHandle IN_OPCODE = field(IN_HEADER, "opcode");
    static final VarHandle IN_UNIQUE = field(IN_HEADER, "unique");
    static final VarHandle IN_NODEID = field(IN_HEADER, "nodeid");

    /** fuse_out_header (16) | len u32 | error s32 (negative errno, or a notify code) | unique u64 | */
    static final StructLayout OUT_HEADER = MemoryLayout.structLayout(
            JAVA_INT.withName("len"), JAVA_INT.withName("error"), JAVA_LONG.withName("unique"));
    static final VarHandle OUT_LEN = field(OUT_HEADER, "len");
    static final VarHandle OUT_ERROR = field(OUT_HEADER, "error");
    static final VarHandle OUT_UNIQUE = field(OUT_HEADER, "unique");

    /** fuse_init_in (64; 16 before 7.36) | major | minor | max_readahead | flags | flags2 | unused[11] | */
    static final StructLayout INIT_IN = MemoryLayout.structLayout(
            JAVA_INT.withName("major"), JAVA_INT.withName("minor"), JAVA_INT.withName("max_readahead"),
            JAVA_INT.withName("flags"), JAVA_INT.withName("flags2"), MemoryLayout.sequenceLayout(11, JAVA_INT));
    static final VarHandle INIT_IN_MAJOR = field(INIT_IN, "major");
    static final VarHandle INIT_IN_MINOR = field(INIT_IN, "minor");
    static final VarHandle INIT_IN_MAX_READAHEAD = field(INIT_IN, "max_readahead");
    static final VarHandle INIT_IN_FLAGS = field(INIT_IN, "flags");
    static final VarHandle INIT_IN_FLAGS2 = field(INIT_IN, "flags2");

    /**
     * <pre>
     * fuse_init_out (64) | major u32 | minor u32 | max_readahead u32 | flags u32 |
     *                    | max_background u16 | congestion_threshold u16 | max_write u32 |
     *                    | time_gran u32 | max_pages u16 | map_alignment u16 | flags2 u32 |
     *                    | max_stack_depth u32 | unused[6] u32 |
     * </pre>
     */
    static final StructLayout INIT_OUT = MemoryLayout.structLayout(
            JAVA_INT.withName("major"), JAVA_INT.withName("minor"), JAVA_INT.withName("max_readahead"),
            JAVA_INT.withName("flags"), JAVA_SHORT.withName("max_background"),
            JAVA_SHORT.withName("congestion_threshold"), JAVA_INT.withName("max_write"),
            JAVA_INT.withName("time_gran"), JAVA_SHORT.withName("max_pages"),
            JAVA_SHORT.withName("map_alignment"), JAVA_INT.withName("flags2"),
            JAVA_INT.withName("max_stack_depth"), MemoryLayout.sequenceLayout(6, JAVA_INT));
    static final VarHandle INIT_OUT_MAJOR = field(INIT_OUT, "major");
    static final VarHandle INIT_OUT_MINOR = field(INIT_OUT, "minor");
    static final VarHandle INIT_OUT_MAX_READAHEAD = field(INIT_OUT, "max_readahead");
    static final VarHandle INIT_OUT_FLAGS = field(INIT_OUT, "flags");
    static final VarHandle INIT_OUT_MAX_BACKGROUND = field(INIT_OUT, "max_background");
    static final VarHandle INIT_OUT_CONGESTION_THRESHOLD = field(INIT_OUT, "congestion_threshold");
    static final VarHandle INIT_OUT_MAX_WRITE = field(INIT_OUT, "max_write");
    static final VarHandle INIT_OUT_TIME_GRAN = field(INIT_OUT, "time_gran");
    static final VarHandle INIT_OUT_MAX_PAGES = field(INIT_OUT, "max_pages");
    static final VarHandle INIT_OUT_FLAGS2 = field(INIT_OUT, "flags2");
    static final VarHandle INIT_OUT_MAX_STACK_DEPTH = field(INIT_OUT, "max_stack_depth");

    /**
     * <pre>
     * fuse_attr (88) | ino | size | blocks | atime | mtime | ctime (u64 each) |
     *                | atimensec | mtimensec | ctimensec | mode | nlink | uid | gid | rdev | blksize | flags (u32) |
     * </pre>
     */
    static final StructLayout ATTR = MemoryLayout.structLayout(
            JAVA_LONG.withName("ino"), JAVA_LONG.withName("size"), JAVA_LONG.withName("blocks"),
            JAVA_LONG.withName("atime"), JAVA_LONG.withName("mtime"), JAVA_LONG.withName("ctime"),
            JAVA_INT.withName("atimensec"), JAVA_INT.withName("mtimensec"), JAVA_INT.withName("ctimensec"),
            JAVA_INT.withName("mode"), JAVA_INT.withName("nlink"), JAVA_INT.withName("uid"),
            JAVA_INT.withName("gid"), JAVA_INT.withName("rdev"), JAVA_INT.withName("blksize"),
            JAVA_INT.withName("flags"));
    static final VarHandle ATTR_INO = field(ATTR, "ino");
    static final VarHandle ATTR_SIZE = field(ATTR, "size");
    static final VarHandle ATTR_BLOCKS = field(ATTR, "blocks");
    static final VarHandle ATTR_ATIME = field(ATTR, "atime");
    static final VarHandle ATTR_MTIME = field(ATTR, "mtime");
    static final VarHandle ATTR_CTIME = field(ATTR, "ctime");
    static final VarHandle ATTR_ATIMENSEC = field(ATTR, "atimensec");
    static final VarHandle ATTR_MTIMENSEC = field(ATTR, "mtimensec");
    static final VarHandle ATTR_CTIMENSEC = field(ATTR, "ctimensec");
    static final VarHandle ATTR_MODE = field(ATTR, "mode");
    static final VarHandle ATTR_NLINK = field(ATTR, "nlink");
    static final VarHandle ATTR_UID = field(ATTR, "uid");
    static final VarHandle ATTR_GID = field(ATTR, "gid");
    static final VarHandle ATTR_RDEV = field(ATTR, "rdev");
    static final VarHandle ATTR_BLKSIZE = field(ATTR, "blksize");
    static final VarHandle ATTR_FLAGS = field(ATTR, "flags");

    /**
     * <pre>
     * fuse_entry_out (128) | nodeid u64 | generation u64 | entry_valid u64 | attr_valid u64 |
     *                      | entry_valid_nsec u32 | attr_valid_nsec u32 | attr (fuse_attr) |
     * </pre>
     */
    static final StructLayout ENTRY_OUT = MemoryLayout.structLayout(
            JAVA_LONG.withName("nodeid"), JAVA_LONG.withName("generation"), JAVA_LONG.withName("entry_valid"),
            JAVA_LONG.withName("attr_valid"), JAVA_INT.withName("entry_valid_nsec"),
            JAVA_INT.withName("attr_valid_nsec"), ATTR.withName("attr"));
    static final VarHandle ENTRY_NODEID = field(ENTRY_OUT, "nodeid");
    static final VarHandle ENTRY_GENERATION = field(ENTRY_OUT, "generation");
    static final VarHandle ENTRY_VALID = field(ENTRY_OUT, "entry_valid");
    static final VarHandle ENTRY_ATTR_VALID = field(ENTRY_OUT, "attr_valid");
    static final VarHandle ENTRY_VALID_NSEC = field(ENTRY_OUT, "entry_valid_nsec");
    static final VarHandle ENTRY_ATTR_VALID_NSEC = field(ENTRY_OUT, "attr_valid_nsec");
    static final long ENTRY_ATTR_OFFSET = ENTRY_OUT.byteOffset(groupElement("attr"));

    /** fuse_attr_out (104) | attr_valid u64 | attr_valid_nsec u32 | dummy u32 | attr (fuse_attr) | */
    static final StructLayout ATTR_OUT = MemoryLayout.structLayout(
            JAVA_LONG.withName("attr_valid"), JAVA_INT.withName("attr_valid_nsec"), JAVA_INT.withName("dummy"),
            ATTR.withName("attr"));
    static final VarHandle ATTR_OUT_VALID = field(ATTR_OUT, "attr_valid");
    static final VarHandle ATTR_OUT_VALID_NSEC = field(ATTR_OUT, "attr_valid_nsec");
    static final VarHandle ATTR_OUT_DUMMY = field(ATTR_OUT, "dummy");
    static final long ATTR_OUT_ATTR_OFFSET = ATTR_OUT.byteOffset(groupElement("attr"));

    /** fuse_open_in (8) | flags u32 | open_flags u32 | */
    static final StructLayout OPEN_IN = MemoryLayout.structLayout(
            JAVA_INT.withName("flags"), JAVA_INT.withName("open_flags"));
    static final VarHandle OPEN_IN_FLAGS = field(OPEN_IN, "flags");

    /** fuse_open_out (16) | fh u64 | open_flags u32 | backing_id s32 | */
    static final StructLayout OPEN_OUT = MemoryLayout.structLayout(
            JAVA_LONG.withName("fh"), JAVA_INT.withName("open_flags"), JAVA_INT.withName("backing_id"));
    static final VarHandle OPEN_OUT_FH = field(OPEN_OUT, "fh");
    static final VarHandle OPEN_OUT_FLAGS = field(OPEN_OUT, "open_flags");
    static final VarHandle OPEN_OUT_BACKING_ID = field(OPEN_OUT, "backing_id");

    /** fuse_read_in (40), also for READDIR | fh u64 | offset u64 | size u32 | read_flags u32 | lock_owner u64 | flags u32 | padding u32 | */
    static final StructLayout READ_IN = MemoryLayout.structLayout(
            JAVA_LONG.withName("fh"), JAVA_LONG.withName("offset"), JAVA_INT.withName("size"),
            JAVA_INT.withName("read_flags"), JAVA_LONG.withName("lock_owner"), JAVA_INT.withName("flags"),
            JAVA_INT.withName("padding"));
    static final VarHandle READ_IN_FH = field(READ_IN, "fh");
    static final VarHandle READ_IN_OFFSET = field(READ_IN, "offset");
    static final VarHandle READ_IN_SIZE = field(READ_IN, "size");

    /** fuse_release_in (24) | fh u64 | flags u32 | release_flags u32 | lock_owner u64 | */
    static final StructLayout RELEASE_IN = MemoryLayout.structLayout(
            JAVA_LONG.withName("fh"), JAVA_INT.withName("flags"), JAVA_INT.withName("release_flags"),
            JAVA_LONG.withName("lock_owner"));
    static final VarHandle RELEASE_IN_FH = field(RELEASE_IN, "fh");

    /** fuse_forget_in (8) | nlookup u64 | */
    static final StructLayout FORGET_IN = MemoryLayout.structLayout(JAVA_LONG.withName("nlookup"));
    static final VarHandle FORGET_IN_NLOOKUP = field(FORGET_IN, "nlookup");

    /** fuse_batch_forget_in (8) | count u32 | dummy u32 |, then count x fuse_forget_one (16) | nodeid u64 | nlookup u64 | */
    static final StructLayout BATCH_FORGET_IN = MemoryLayout.structLayout(
            JAVA_INT.withName("count"), JAVA_INT.withName("dummy"));
    static final VarHandle BATCH_FORGET_COUNT = field(BATCH_FORGET_IN, "count");
    static final StructLayout FORGET_ONE = MemoryLayout.structLayout(
            JAVA_LONG.withName("nodeid"), JAVA_LONG.withName("nlookup"));
    static final VarHandle FORGET_ONE_NODEID = field(FORGET_ONE, "nodeid");
    static final VarHandle FORGET_ONE_NLOOKUP = field(FORGET_ONE, "nlookup");

    /** fuse_dirent (24 + name, padded to 8) | ino u64 | off u64 | namelen u32 | type u32 | name[] | */
    static final StructLayout DIRENT = MemoryLayout.structLayout(
            JAVA_LONG.withName("ino"), JAVA_LONG.withName("off"), JAVA_INT.withName("namelen"),
            JAVA_INT.withName("type"));
    static final VarHandle DIRENT_INO = field(DIRENT, "ino");
    static final VarHandle DIRENT_OFF = field(DIRENT, "off");
    static final VarHandle DIRENT_NAMELEN = field(DIRENT, "namelen");
    static final VarHandle DIRENT_TYPE = field(DIRENT, "type");

    /** fuse_kstatfs = fuse_statfs_out (80) | blocks | bfree | bavail | files | ffree (u64) | bsize | namelen | frsize | padding | spare[6] (u32) | */
    static final StructLayout STATFS_OUT = MemoryLayout.structLayout(
            JAVA_LONG.withName("blocks"), JAVA_LONG.withName("bfree"), JAVA_LONG.withName("bavail"),
            JAVA_LONG.withName("files"), JAVA_LONG.withName("ffree"), JAVA_INT.withName("bsize"),
            JAVA_INT.withName("namelen"), JAVA_INT.withName("frsize"), JAVA_INT.withName("padding"),
            MemoryLayout.sequenceLayout(6, JAVA_INT));
    static final VarHandle STATFS_BLOCKS = field(STATFS_OUT, "blocks");
    static final VarHandle STATFS_BFREE = field(STATFS_OUT, "bfree");
    static final VarHandle STATFS_BAVAIL = field(STATFS_OUT, "bavail");
    static final VarHandle STATFS_FILES = field(STATFS_OUT, "files");
    static final VarHandle STATFS_FFREE = field(STATFS_OUT, "ffree");
    static final VarHandle STATFS_BSIZE = field(STATFS_OUT, "bsize");
    static final VarHandle STATFS_NAMELEN = field(STATFS_OUT, "namelen");
    static final VarHandle STATFS_FRSIZE = field(STATFS_OUT, "frsize");

    /** fuse_getxattr_in (8), then the NUL-terminated name | size u32 | padding u32 |; fuse_getxattr_out has the same shape */
    static final StructLayout GETXATTR_IN = MemoryLayout.structLayout(
            JAVA_INT.withName("size"), JAVA_INT.withName("padding"));
    static final VarHandle GETXATTR_SIZE = field(GETXATTR_IN, "size");
    static final VarHandle GETXATTR_PADDING = field(GETXATTR_IN, "padding");

    /** fuse_access_in (8) | mask u32 | padding u32 | */
    static final StructLayout ACCESS_IN = MemoryLayout.structLayout(
            JAVA_INT.withName("mask"), JAVA_INT.withName("padding"));
    static final VarHandle ACCESS_MASK = field(ACCESS_IN, "mask");

    /** fuse_lseek_in (24) | fh u64 | offset u64 | whence u32 | padding u32 |; fuse_lseek_out (8) | offset u64 | */
    static final StructLayout LSEEK_IN = MemoryLayout.structLayout(
            JAVA_LONG.withName("fh"), JAVA_LONG.withName("offset"), JAVA_INT.withName("whence"),
            JAVA_INT.withName("padding"));
    static final VarHandle LSEEK_FH = field(LSEEK_IN, "fh");
    static final VarHandle LSEEK_OFFSET = field(LSEEK_IN, "offset");
    static final VarHandle LSEEK_WHENCE = field(LSEEK_IN, "whence");
    static final StructLayout LSEEK_OUT = MemoryLayout.structLayout(JAVA_LONG.withName("offset"));
    static final VarHandle LSEEK_OUT_OFFSET = field(LSEEK_OUT, "offset");

    /** fuse_interrupt_in (8) | unique u64 | */
    static final StructLayout INTERRUPT_IN = MemoryLayout.structLayout(JAVA_LONG.withName("unique"));
    static final VarHandle INTERRUPT_UNIQUE = field(INTERRUPT_IN, "unique");

    /** fuse_notify_inval_inode_out (24) | ino u64 | off s64 | len s64 | */
    static final StructLayout NOTIFY_INVAL_INODE_OUT = MemoryLayout.structLayout(
            JAVA_LONG.withName("ino"), JAVA_LONG.withName("off"), JAVA_LONG.withName("len"));
    static final VarHandle INVAL_INODE_INO = field(NOTIFY_INVAL_INODE_OUT, "ino");
    static final VarHandle INVAL_INODE_OFF = field(NOTIFY_INVAL_INODE_OUT, "off");
    static final VarHandle INVAL_INODE_LEN = field(NOTIFY_INVAL_INODE_OUT, "len");

    /** fuse_notify_inval_entry_out (16), then the name and a NUL | parent u64 | namelen u32 | flags u32 | */
    static final StructLayout NOTIFY_INVAL_ENTRY_OUT = MemoryLayout.structLayout(
            JAVA_LONG.withName("parent"), JAVA_INT.withName("namelen"), JAVA_INT.withName("flags"));
    static final VarHandle INVAL_ENTRY_PARENT = field(NOTIFY_INVAL_ENTRY_OUT, "parent");
    static final VarHandle INVAL_ENTRY_NAMELEN = field(NOTIFY_INVAL_ENTRY_OUT, "namelen");
    static final VarHandle INVAL_ENTRY_FLAGS = field(NOTIFY_INVAL_ENTRY_OUT, "flags");

    /** fuse_backing_map (16), the BACKING_OPEN argument | fd s32 | flags u32 | padding u64 | */
    static final StructLayout BACKING_MAP = MemoryLayout.structLayout(
            JAVA_INT.withName("fd"), JAVA_INT.withName("flags"), JAVA_LONG.withName("padding"));
    static final VarHandle BACKING_MAP_FD = field(BACKING_MAP, "fd");

    /** Directory entries are padded to 8 bytes (FUSE_DIRENT_ALIGN). */
    static long direntAlign(long size) {
        return (size + 7) & ~7L;
    }

    private static VarHandle field(StructLayout layout, String name) {
        return layout.varHandle(groupElement(name));
    }
}
