#if canImport(Glibc)
import Glibc
#endif

/// libnetfilter_conntrack's `<when>` (conntrack's `-o xml,timestamp`): the local time of
/// printing, field by field, minutes and seconds two digits, the weekday counted from 1 on
/// Sunday.
enum XMLWhenElement {
    static func text(_ t: tm) -> String {
        let minute = t.tm_min < 10 ? "0\(t.tm_min)" : "\(t.tm_min)"
        let second = t.tm_sec < 10 ? "0\(t.tm_sec)" : "\(t.tm_sec)"
        return "<when><hour>\(t.tm_hour)</hour><min>\(minute)</min><sec>\(second)</sec><wday>\(t.tm_wday + 1)</wday>"
            + "<day>\(t.tm_mday)</day><month>\(t.tm_mon + 1)</month><year>\(t.tm_year + 1900)</year></when>"
    }
}
