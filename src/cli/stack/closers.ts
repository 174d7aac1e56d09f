/** What a started part of the stack leaves to undo; `perdiem up` runs them in reverse order when it stops. */
export type Closer = () => Promise<void> | void;

/** Where a stack step reports progress, one line at a time. */
export type Progress = (line: string) => void;
