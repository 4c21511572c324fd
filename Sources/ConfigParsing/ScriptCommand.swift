/// A notify or script command line split into argv as keepalived splits it (spec §3.2):
/// unquoted whitespace separates words, single and double quotes group them, a backslash
/// takes the next character literally. The configuration's own double quotes are already
/// gone by the time the lexer hands the string over.
public enum ScriptCommand {
    public static func argv(_ command: String) -> [String] {
        var words: [String] = []
        var current = ""
        var inWord = false
        var quote: Character?
        var escaped = false
        for c in command {
            if escaped {
                current.append(c)
                escaped = false
                continue
            }
            if c == "\\" && quote != "'" {
                escaped = true
                inWord = true
                continue
            }
            if let q = quote {
                if c == q { quote = nil } else { current.append(c) }
                continue
            }
            if c == "'" || c == "\"" {
                quote = c
                inWord = true
                continue
            }
            if c == " " || c == "\t" {
                if inWord { words.append(current) }
                current = ""
                inWord = false
                continue
            }
            current.append(c)
            inWord = true
        }
        if inWord { words.append(current) }
        return words
    }
}
