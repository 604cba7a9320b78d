using Tavus.Simulator.Callbacks;

namespace Tavus.Simulator.Conversations;

/// <summary>The room's one timer: what is due next, and applying it in time order.</summary>
internal sealed partial class SimulatedConversation
{
    private void OnTimer(object? state)
    {
        try
        {
            lock (_gate)
            {
                if (!_disposed)
                {
                    Advance(_clock.Now);
                }
            }
        }
        catch (Exception ex)
        {
            // An exception escaping a timer callback would take the whole process down.
            Log.TimerFailed(_logger, ex, _settings.Id);
        }
    }

    /// <summary>Applies, in time order, everything due by <paramref name="now"/>, then re-arms the timer.</summary>
    private void Advance(DateTimeOffset now)
    {
        while (_endedAt is null)
        {
            var (endAt, reason) = NextEnd();
            if (!_replicaJoined && _replicaJoinAt <= now && _replicaJoinAt < endAt)
            {
                _replicaJoined = true;
                Emit(EventTypes.ReplicaJoined, MessageTypes.System, new ReplicaJoinedProperties(_settings.ReplicaId), _replicaJoinAt);
                continue;
            }

            if (endAt <= now)
            {
                EndCore(reason, endAt);
            }

            break;
        }

        Reschedule(now);
    }

    /// <summary>The earliest applicable deadline; on a tie max_call_duration wins, hence the strict comparisons.</summary>
    private (DateTimeOffset At, string Reason) NextEnd()
    {
        var next = (At: _maxCallDeadline, Reason: ShutdownReasons.MaxCallDuration);
        if (!_anyoneJoined && _absentDeadline < next.At)
        {
            next = (_absentDeadline, ShutdownReasons.ParticipantAbsentTimeout);
        }

        if (_leftDeadline is { } left && left < next.At)
        {
            next = (left, ShutdownReasons.ParticipantLeftTimeout);
        }

        return next;
    }

    private void Reschedule(DateTimeOffset now)
    {
        if (_timer is null)
        {
            return;
        }

        if (_endedAt is not null)
        {
            _timer.Dispose();
            _timer = null;
            return;
        }

        var next = NextEnd().At;
        if (!_replicaJoined && _replicaJoinAt < next)
        {
            next = _replicaJoinAt;
        }

        _timer.Change(SimulatorClock.DueTime(now, next), Timeout.InfiniteTimeSpan);
    }
}
