/// Business logic as a pure function pair, the shape every Accord aggregate takes.
///
/// `decide` holds every rule: it looks at the current state and a command and either
/// returns the events that happen or a typed error. `evolve` only applies facts: it
/// never rejects, because the events it gets already happened. Neither does I/O,
/// reads a clock or makes ids: the shell puts `now` and new ids into the command.
pub trait Decider {
    type State: Default + Clone;
    type Command;
    type Event: Clone;
    type Error;

    fn decide(
        state: &Self::State,
        command: &Self::Command,
    ) -> Result<Vec<Self::Event>, Self::Error>;

    fn evolve(state: Self::State, event: &Self::Event) -> Self::State;

    /// The state after `events`, from the initial state.
    fn fold<'a>(events: impl IntoIterator<Item = &'a Self::Event>) -> Self::State
    where
        Self::Event: 'a,
    {
        events
            .into_iter()
            .fold(Self::State::default(), Self::evolve)
    }
}
