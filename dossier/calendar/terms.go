package calendar

// Term is a deadline's length: a number of days and how they count.
type Term struct {
	Days int  `json:"days"`
	Unit Unit `json:"unit"`
}

// Due is the day the term ends when counted from the day after from, with the suspended
// periods left out (see Deadline).
func (c *Calendar) Due(from Date, t Term, suspended []Period) Date {
	return c.Deadline(from, t.Days, t.Unit, suspended)
}

// The terms below are written in the Наредба за административното обслужване and the
// Административнопроцесуален кодекс as a number of days, without "работни"; Bulgarian law
// counts such a term in calendar days, and one ending on a day off ends on the next working day
// (see Deadline). The article of the Наредба is not named here because its current numbering
// was not checked against the official text; АПК чл. 30, ал. 2 likewise. A service's own terms (обикновена, бърза, експресна услуга) come from its
// configuration, in working or calendar days as the service is published.

// AnswerTerm is the term for answering an inquiry, signal, proposal, complaint or praise
// (запитване, сигнал, предложение, оплакване, похвала) under the Наредба за административното
// обслужване: 7 days from its receipt, or 14 days when a check on the spot or the opinion of
// another authority is needed.
func AnswerTerm(needsCheckOrOpinion bool) Term {
	if needsCheckOrOpinion {
		return Term{Days: 14, Unit: CalendarDays}
	}
	return Term{Days: 7, Unit: CalendarDays}
}

// IrregularityTerm is the term an irregularity notice (уведомление за нередовност) gives the
// applicant to remove the irregularities: 7 days from being notified (АПК чл. 30, ал. 2). The
// dossier's own deadline is suspended from the day the notice is sent to the day the
// irregularity is removed, both included (a Period given to Deadline).
func IrregularityTerm() Term { return Term{Days: 7, Unit: CalendarDays} }

// IrregularityNoticeTerm is the term for notifying the applicant of irregularities found in an
// application: 3 days from its receipt (АПК чл. 30, ал. 2).
func IrregularityNoticeTerm() Term { return Term{Days: 3, Unit: CalendarDays} }
