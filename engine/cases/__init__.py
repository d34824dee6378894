"""The case runtime: the services that change a challenge (`services`), the run loop that moves a case's
workflow and reports each moment (`run`, taken in a step process by `runner`), the writer that turns moments
into rows (`writer`) through the one store of a step's statements (`store`), and the timers and their worker."""
