public enum TandemCLIPlaceholder {}
