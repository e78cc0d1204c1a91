package events

import "strings"

// activeCurrencies lists the active ISO 4217 alphabetic codes as of late
// 2026, including fund codes (such as BOV, CLF, USN) and the X-prefixed
// units (precious metals, XDR, the CFA and CFP francs). It leaves out XTS
// (reserved for testing) and XXX (no currency): neither can price anything.
const activeCurrencies = `
AED AFN ALL AMD AOA ARS AUD AWG AZN BAM BBD BDT BHD BIF BMD BND BOB BOV
BRL BSD BTN BWP BYN BZD CAD CDF CHE CHF CHW CLF CLP CNY COP COU CRC CUP
CVE CZK DJF DKK DOP DZD EGP ERN ETB EUR FJD FKP GBP GEL GHS GIP GMD GNF
GTQ GYD HKD HNL HTG HUF IDR ILS INR IQD IRR ISK JMD JOD JPY KES KGS KHR
KMF KPW KRW KWD KYD KZT LAK LBP LKR LRD LSL LYD MAD MDL MGA MKD MMK MNT
MOP MRU MUR MVR MWK MXN MXV MYR MZN NAD NGN NIO NOK NPR NZD OMR PAB PEN
PGK PHP PKR PLN PYG QAR RON RSD RUB RWF SAR SBD SCR SDG SEK SGD SHP SLE
SOS SRD SSP STN SVC SYP SZL THB TJS TMT TND TOP TRY TTD TWD TZS UAH UGX
USD USN UYI UYU UYW UZS VED VES VND VUV WST XAF XAG XAU XBA XBB XBC XBD
XCD XCG XDR XOF XPD XPF XPT XSU XUA YER ZAR ZMW ZWG
`

// withdrawnCurrencies lists codes withdrawn since 2021. They stay valid
// because backfilled history may be priced in them: CUC (2021), HRK
// (2023), SLL and ZWL (2024), ANG (2025) and BGN (2026).
const withdrawnCurrencies = `ANG BGN CUC HRK SLL ZWL`

// currencySet has one bit per three-letter code AAA..ZZZ.
var currencySet = newCurrencySet(activeCurrencies + " " + withdrawnCurrencies)

type codeSet [26*26*26/64 + 1]uint64

func newCurrencySet(list string) *codeSet {
	var s codeSet
	for _, code := range strings.Fields(list) {
		i, ok := codeIndex(code)
		if !ok {
			panic("events: bad currency code in list: " + code)
		}
		s[i/64] |= 1 << (i % 64)
	}
	return &s
}

// codeIndex maps three upper-case ASCII letters to 0..17575.
func codeIndex(code string) (int, bool) {
	if len(code) != 3 {
		return 0, false
	}
	i := 0
	for j := 0; j < 3; j++ {
		c := code[j]
		if c < 'A' || c > 'Z' {
			return 0, false
		}
		i = i*26 + int(c-'A')
	}
	return i, true
}

// IsCurrency reports whether code is an upper-case ISO 4217 alphabetic code
// that [Parse] accepts: an active code, or one withdrawn since 2021.
func IsCurrency(code string) bool {
	i, ok := codeIndex(code)
	return ok && currencySet[i/64]&(1<<(i%64)) != 0
}

// Currencies returns every code [IsCurrency] accepts, sorted.
func Currencies() []string {
	var codes []string
	for i := 0; i < 26*26*26; i++ {
		if currencySet[i/64]&(1<<(i%64)) != 0 {
			codes = append(codes, string([]byte{
				byte('A' + i/676), byte('A' + i/26%26), byte('A' + i%26),
			}))
		}
	}
	return codes
}
