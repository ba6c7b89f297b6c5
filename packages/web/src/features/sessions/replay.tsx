/**
 * A player for a session's recording (asciicast v2 from ssm:GetSessionRecording), written for
 * this console so that it runs under its Content-Security-Policy: the recording's output is
 * written into an xterm.js terminal of the recording's size at the pace it was made (pauses cut
 * to two seconds), with play/pause, restart and speed.
 */
import type { Terminal } from '@xterm/xterm';
import { useEffect, useRef, useState, type ReactNode } from 'react';
import { parseCast, type Cast } from './asciicast';
import { newTerminal } from './xterm';

type PlayState = 'playing' | 'paused' | 'ended';

const TICK_MS = 40;
const SPEEDS = [1, 2, 4, 8] as const;

function clock(seconds: number): string {
  const whole = Math.floor(seconds);
  return `${Math.floor(whole / 60)}:${String(whole % 60).padStart(2, '0')}`;
}

/** Plays a Cast into a terminal from `position` on; the caller moves it with play, pause and restart. */
class Playback {
  position = 0;
  private next = 0;
  private timer: ReturnType<typeof setInterval> | undefined;
  private lastTick = 0;

  constructor(
    private readonly cast: Cast,
    private readonly terminal: Terminal,
    private readonly onChange: (state: PlayState, position: number) => void,
  ) {}

  play(speed: number): void {
    if (this.next >= this.cast.events.length) this.restart();
    this.pause();
    this.lastTick = performance.now();
    this.timer = setInterval(() => {
      const now = performance.now();
      this.position += ((now - this.lastTick) / 1000) * speed;
      this.lastTick = now;
      this.advance();
    }, TICK_MS);
    this.advance();
  }

  pause(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  restart(): void {
    this.terminal.reset();
    this.terminal.resize(this.cast.cols, this.cast.rows);
    this.position = 0;
    this.next = 0;
  }

  private advance(): void {
    const events = this.cast.events;
    let output = '';
    while (this.next < events.length && (events[this.next]?.at ?? Infinity) <= this.position) {
      const event = events[this.next++];
      if (event === undefined) break;
      if (event.kind === 'output') output += event.text;
      else {
        if (output !== '') this.terminal.write(output);
        output = '';
        this.terminal.resize(event.cols ?? this.cast.cols, event.rows ?? this.cast.rows);
      }
    }
    if (this.next >= events.length) {
      this.pause();
      this.position = this.cast.duration;
      // Ended once the terminal has drawn the last output (xterm parses writes asynchronously).
      this.terminal.write(output, () => {
        this.onChange('ended', this.position);
      });
    } else {
      if (output !== '') this.terminal.write(output);
      this.onChange(this.timer === undefined ? 'paused' : 'playing', this.position);
    }
  }
}

export function ReplayPlayer({ content, label }: { content: string; label: string }): ReactNode {
  const container = useRef<HTMLDivElement>(null);
  const playback = useRef<Playback | undefined>(undefined);
  const [state, setState] = useState<PlayState>('paused');
  const [position, setPosition] = useState(0);
  const [speed, setSpeed] = useState<number>(1);
  const [problem, setProblem] = useState<string | undefined>(undefined);
  const [duration, setDuration] = useState(0);

  useEffect(() => {
    const element = container.current;
    if (element === null) return;
    let cast: Cast;
    try {
      cast = parseCast(content);
    } catch (error) {
      setProblem(error instanceof Error ? error.message : String(error));
      return;
    }
    setDuration(cast.duration);
    const terminal = newTerminal(element, { cols: cast.cols, rows: cast.rows, disableStdin: true, cursorBlink: false });
    playback.current = new Playback(cast, terminal, (next, at) => {
      setState(next);
      setPosition(at);
    });
    return () => {
      playback.current?.pause();
      playback.current = undefined;
      terminal.dispose();
    };
  }, [content]);

  if (problem !== undefined) {
    return (
      <p className="error" role="alert">
        The recording cannot be played: {problem}
      </p>
    );
  }
  return (
    <div className="replay" data-state={state}>
      <div className="replay-controls">
        <button
          type="button"
          className="primary"
          onClick={() => {
            if (state === 'playing') {
              playback.current?.pause();
              setState('paused');
            } else playback.current?.play(speed);
          }}
        >
          {state === 'playing' ? 'Pause' : state === 'ended' ? 'Play again' : 'Play'}
        </button>
        <button
          type="button"
          onClick={() => {
            playback.current?.pause();
            playback.current?.restart();
            setState('paused');
            setPosition(0);
          }}
        >
          Restart
        </button>
        <label htmlFor="replay-speed">Speed</label>
        <select
          id="replay-speed"
          value={speed}
          onChange={(event) => {
            const chosen = Number(event.target.value);
            setSpeed(chosen);
            if (state === 'playing') playback.current?.play(chosen);
          }}
        >
          {SPEEDS.map((value) => (
            <option key={value} value={value}>
              {value}×
            </option>
          ))}
        </select>
        {/* A recording without pauses (every frame at one instant) has no length: its bar is full once played. */}
        <progress max={duration === 0 ? 1 : duration} value={state === 'ended' ? (duration === 0 ? 1 : duration) : position} aria-label="Replay position" />
        <span className="replay-clock" aria-live="off">
          {clock(position)} / {clock(duration)}
        </span>
      </div>
      <div ref={container} className="replay-screen" role="region" aria-label={label} />
    </div>
  );
}
