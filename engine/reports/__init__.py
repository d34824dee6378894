"""The partnership's reports: the facts each step keeps, periods, the figures of a period, the business unit's
case list, where cases stall on the diagram, and the files they are downloaded as."""
